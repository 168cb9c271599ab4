"""Segments of accounts with live counts, and dynamic books: stale accounts rest in a pool and refill books below capacity."""
