"""The relay's core: errors, call context, identities, token counting, the upstream key and its lease, audit. Imports no app."""
