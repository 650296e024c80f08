"""Volunteers: profiles, skills with evidence, availability, conflicts of interest, change of circumstances."""
