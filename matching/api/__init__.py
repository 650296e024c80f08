"""The read-only JSON API for force systems (issue #21): tokens, queries, schemas and the /api/v1 blueprint."""
