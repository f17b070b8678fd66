"""The FastAPI app: factory with lifespan, REST and WebSocket routes, the hub, error mapping."""
