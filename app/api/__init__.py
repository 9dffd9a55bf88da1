"""HTTP layer: thin FastAPI routers, one per audience, and problem+json errors."""
