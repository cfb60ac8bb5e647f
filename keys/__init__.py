"""Relay keys handed to clients, and the pool of 1min.ai keys they are served from."""
