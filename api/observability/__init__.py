"""What the relay tells operators about itself: metrics, request traces, loop lag, readiness."""
