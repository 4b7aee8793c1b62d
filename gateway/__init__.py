"""The percept REST gateway (FastAPI)."""
