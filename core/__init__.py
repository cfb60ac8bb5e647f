"""The relay's core: errors, call context, identities, token counting, the upstream key lease, audit. Imports no app."""
