"""Sergeants' support requests: raise, list, see, change and cancel them (blueprint ``requests``)."""
