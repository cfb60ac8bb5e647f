"""Everything that talks to 1min.ai or fetches for a client: the client seam, its transport, retries, the SSRF guard."""
