"""The matching solver: pure (no Flask, no ORM). It knows only an Instance — volunteers, requests, the
pairs allowed between them and their clashes — and returns a Plan.

- instance: the input, and its JSON form; plan: ``solve`` and the Plan it returns;
- components: presolve and split into independent components (integer arrays);
- direct, flow, cpsat: the exact paths for tiny, knapsack-free and general components;
- heuristics: the greedy start and the local searches (improve, augment);
- partition: huge components solved part by part in a pool of forked workers;
- relaxation: the flow relaxation's upper bounds; forked: work done in a forked process beside the caller.

``python -m matching.solver INSTANCE.json`` solves an instance file (see docs/matching.md).
"""
