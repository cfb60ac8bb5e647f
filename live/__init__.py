"""The operator's live view: what the API is doing right now, pushed to the admin over a WebSocket."""
