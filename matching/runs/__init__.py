"""Matching runs: stored requests and volunteers → the solver → offers, saved all-or-nothing; the
coordinators' run pages (blueprint ``runs``)."""
