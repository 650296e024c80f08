"""Benchmarks that print figures (not part of the test run): London-like weeks and the matcher on them.

`python -m bench.matching --volunteers N --requests M [--seed S]`; see bench/RESULTS.md.
"""
