"""Dense instances (issue #22): a few specialists, many requests each of them could take, tight hours.

`generate` writes them in the solver's JSON format, `reference` is the plain CP-SAT model the solver is
compared with, and `compare` prints the table recorded in bench/RESULTS.md ("Session 10 — dense instances").
"""
