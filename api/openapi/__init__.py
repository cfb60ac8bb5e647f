"""The relay's own OpenAPI document (drf-spectacular), one module per family of endpoints."""
