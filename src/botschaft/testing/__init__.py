"""Fake provider servers that follow the documented contracts, for testing your own setup."""
