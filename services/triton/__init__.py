"""Generic Triton machinery, shared by every model family: the launcher and its settings,
the python-backend stub's environment, the model-repository writer and the error
convention across Triton. Nothing here knows a model; a family's contract, python-model
logic and repository entries live with the model (TokenFD: services.models.tokenfd.triton).
"""
