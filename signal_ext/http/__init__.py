"""The HTTP server of the service (FastAPI)."""
