"""kernel stage of the bpfsystrace pipeline."""
