"""Botschaft: consent-first messenger marketing and customer service."""

__version__ = "0.1.0"
