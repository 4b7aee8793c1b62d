"""TokenVL in Triton: the torch-free generation logic (tested without Triton) and the
repository entries; model_repository/tokenvl*/model.py are thin glue around it."""
