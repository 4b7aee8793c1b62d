"""Model packages: definitions, checkpoint loaders, preprocessing and export.

Each model lives in its own subpackage. A subpackage's ``__init__`` never imports
torch: the serving paths (gateway, Triton python models) import its preprocessing
and tokenizer modules, and torch is only for export, reference checks and tests.
"""
