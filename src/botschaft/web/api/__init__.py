"""The REST API under /api/v1, grouped by resource."""
