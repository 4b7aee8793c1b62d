"""The stable import path of the sandbox client (the code lives in api/client.py)."""
from .api.client import MAX_RESPONSE_BYTES, SandboxClient, retry_after_ms

__all__ = ["SandboxClient", "retry_after_ms", "MAX_RESPONSE_BYTES"]
