"""A standard-library simulator of the 1min.ai HTTP API for relay tests (see README.md)."""
from .simulator import Simulator

__all__ = ["Simulator"]
