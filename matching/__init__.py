"""Matching: support requests, the solver, offers and assignments."""
