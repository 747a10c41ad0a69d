"""Use cases: each state change in one function that checks, writes and records."""
