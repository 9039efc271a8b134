"""The HTTP API (FastAPI): the routes, tokens and roles, body and rate limits, the access
records of reads, and `ledighed serve`."""
