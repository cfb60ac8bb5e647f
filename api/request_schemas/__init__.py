"""Validation of request bodies into typed requests, one module per family of endpoints."""
