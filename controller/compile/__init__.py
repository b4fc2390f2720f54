"""compile stage of the bpfsystrace pipeline."""
