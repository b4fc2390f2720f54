"""model stage of the bpfsystrace pipeline."""
