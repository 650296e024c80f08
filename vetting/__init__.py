"""Vetting: clearance types, clearances and their lifecycle, task policy, eligibility and renewals.

The pure modules (``catalogue``, ``lifecycle``, ``rules``, ``renewals``) use the standard library
only, so they can be read, tested and benchmarked without an application or a database. The ORM,
services and views are built on top of them and store their enum values as strings.
"""
