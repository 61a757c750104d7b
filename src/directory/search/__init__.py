"""Provider search: GET /v1/search."""
