"""Training-data engines (torch-free): page renderers that write images with their ground truth."""
