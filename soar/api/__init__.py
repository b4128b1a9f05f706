"""The HTTP API: SIEM webhooks, the operator API and health checks (FastAPI)."""
