"""Accounts, roles, sign-in and the security log."""
