"""A tighter proven bound on coverage than the solver's flow relaxation, for the benchmark only.

    python -m bench.lp_bound INSTANCE.json [--coverage C]

INSTANCE.json is an instance as `python -m bench.matching ... --write-instance FILE` writes it. For
each component of the presolved instance (matching.components.decompose) this solves the linear
relaxation of the coverage problem with GLOP, with every rule as a row:

- a request takes at most `needed` people (an all-or-nothing team is relaxed to "at most");
- a volunteer's loads add up to at most their capacity, and they take at most as many places as
  their smallest loads fit (a count that the fractional knapsack alone would not give);
- of pairs that pairwise clash, at most one: one row per clique of an *edge clique cover* (every
  effective clash lies in at least one clique, cliques grown greedily from each uncovered clash).

Every plan is a 0/1 point of these rows, so the LP optimum bounds the best plan's coverage: a
proven bound, tighter than the flow relaxation's (matching/relaxation.py), whose cliques must
partition the pairs (a pair in one clique only, so many clashes are not represented) and whose
capacities are counts. It is far too slow for a run (on London's week: about a minute for the cover
and half a minute for GLOP, beside a solve of ~20 s), which is why the product reports the flow
bound and the benchmark measures this one. Prints the bound and, with --coverage, the gap.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import numpy as np
from ortools.linear_solver import pywraplp

from matching.components import Component, ComponentArrays, decompose
from matching.instance import parse_instance
from matching.relaxation import most_places


def edge_clique_cover(component: Component) -> list[list[int]]:
    """Cliques (pair indices, two or more) that together contain every effective clash. Greedy: from
    each clash not yet covered, add the common partner with the most common partners, and so on."""
    partners: list[set[int]] = [set() for _ in range(component.num_pairs)]
    for a, b in component.clashes:
        partners[a].add(b)
        partners[b].add(a)
    covered: set[tuple[int, int]] = set()
    cliques = []
    for p in sorted(range(component.num_pairs), key=lambda p: (-len(partners[p]), p)):
        for q in sorted(partners[p], key=lambda q: (-len(partners[q]), q)):
            if (min(p, q), max(p, q)) in covered:
                continue
            members, common = [p, q], partners[p] & partners[q]
            while common:
                r = max(common, key=lambda r: (len(partners[r] & common), -r))
                members.append(r)
                common &= partners[r]
            covered.update((min(a, b), max(a, b)) for i, a in enumerate(members) for b in members[i + 1 :])
            cliques.append(members)
    return cliques


def lp_bound(component: Component) -> float:
    """The LP relaxation's optimal coverage for one component (see the module docstring)."""
    arrays = ComponentArrays(component)
    solver = pywraplp.Solver.CreateSolver("GLOP")
    x = [solver.NumVar(0, 1, "") for _ in range(component.num_pairs)]
    objective = solver.Objective()
    for p, var in enumerate(x):
        objective.SetCoefficient(var, float(arrays.priority[arrays.pr[p]]))
    objective.SetMaximization()

    def rows(group: np.ndarray, limit: np.ndarray, weight: np.ndarray | None = None) -> None:
        order = np.argsort(group, kind="stable")
        for members in np.split(order, np.flatnonzero(np.diff(group[order])) + 1):
            if not len(members):
                continue
            row = solver.Constraint(-solver.infinity(), float(limit[group[members[0]]]))
            for p in members.tolist():
                row.SetCoefficient(x[p], 1.0 if weight is None else float(weight[p]))

    rows(arrays.pr, arrays.needed)
    rows(arrays.pv, arrays.capacity, arrays.load)
    rows(arrays.pv, most_places(arrays))
    for clique in edge_clique_cover(component):
        row = solver.Constraint(-solver.infinity(), 1.0)
        for p in clique:
            row.SetCoefficient(x[p], 1.0)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise SystemExit("GLOP did not solve the relaxation")
    return objective.Value()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("instance", type=Path)
    parser.add_argument("--coverage", type=int, help="a plan's coverage, to print its gap to the bound")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    instance = parse_instance(json.loads(args.instance.read_text(encoding="utf-8")))
    components = decompose(instance).components
    # Coverage is a whole number, so each component's bound rounds down; GLOP's answer is exact only to
    # its tolerances (~1e-6 relative), so half a unit of slack is kept rather than trusting the last digit.
    bound = sum(math.floor(lp_bound(component) + 0.5) for component in components)
    print(f"LP bound on coverage: {bound:,} ({len(components)} components, {time.perf_counter() - started:.0f} s)")
    if args.coverage is not None:
        print(f"plan's coverage {args.coverage:,}: {100 * (bound - args.coverage) / bound:.2f}% below the bound")


if __name__ == "__main__":
    main()
