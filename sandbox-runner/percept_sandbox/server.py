"""The stable import path of the gRPC server (the code lives in api/server.py)."""
from .api.server import serve

__all__ = ["serve"]
