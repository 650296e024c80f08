"""Upper bounds from a relaxation that flows solve exactly. Pure module.

Used where CP-SAT cannot give a bound in time: the huge components of matching/solver/partition.py,
and the score of large CP-SAT components whose phase 2 ran out of time.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from matching.solver.components import Component, ComponentArrays, trivial_bounds

# A pair's clique grows from at most this many of its clash partners (a cap on time). Generous, because
# larger cliques tighten the bound and the extra time is spent in the bound's own process, beside the
# plan, not added to the run.
CLIQUE_EFFORT = 400

# The coverage bound is found by one max flow per priority level while there are at most this many
# levels (the product has three), else by one min-cost flow.
MAX_FLOW_LEVELS = 32


def relaxation_bounds(component: Component) -> tuple[int, int]:
    """Upper bounds on the coverage and on the score of every plan, from a flow network that
    relaxes the rules it cannot express: each volunteer takes at most as many places as their
    smallest loads fit in their capacity, and at most one pair from each group of pairs that
    pairwise clash (a greedy partition of their clashes into cliques); teams need not be whole.
    Every plan is a flow of this network, so its optima bound the plan's. Coverage: by max flows,
    one per priority level (``_coverage_by_levels``). Score: the best total of positive scores,
    whatever the coverage, by a min-cost flow."""
    arrays = ComponentArrays(component)
    n, num_v, num_r = component.num_pairs, len(component.volunteer_ids), len(component.request_ids)
    pv, pr = arrays.pv, arrays.pr
    units = most_places(arrays)
    clique = _clique_partition(component)
    num_c = int(clique.max()) + 1 if n else 0
    clique_volunteer = np.zeros(num_c, dtype=np.int64)
    clique_volunteer[clique] = pv
    source, sink, first_v = 0, 1, 2
    first_c = first_v + num_v
    first_r = first_c + num_c
    nodes = first_r + num_r
    supply = int(min(arrays.needed.sum(), n))
    tails = np.concatenate(
        [
            np.zeros(num_v, dtype=np.int64),
            first_v + clique_volunteer,
            first_c + clique,
            first_r + np.arange(num_r),
            [source],
        ]
    )
    heads = np.concatenate(
        [first_v + np.arange(num_v), first_c + np.arange(num_c), first_r + pr, np.full(num_r, sink), [sink]]
    )
    capacities = np.concatenate(
        [units, np.ones(num_c, dtype=np.int64), np.ones(n, dtype=np.int64), arrays.needed, [supply]]
    )
    supplies = np.zeros(nodes, dtype=np.int64)
    supplies[source], supplies[sink] = supply, -supply
    trivial_coverage, trivial_score = trivial_bounds(component)
    levels = np.unique(arrays.priority[arrays.priority > 0])[::-1]
    bounds = []
    for goal in ("coverage", "score"):
        if goal == "coverage" and len(levels) <= MAX_FLOW_LEVELS:
            coverage = _coverage_by_levels(tails, heads, capacities, num_r, levels, arrays.priority, source, sink)
            if coverage is None:
                return trivial_coverage, trivial_score
            bounds.append(coverage)
            continue
        pair_cost = -arrays.priority[pr] if goal == "coverage" else -np.maximum(arrays.score, 0)
        network = min_cost_flow.SimpleMinCostFlow()
        zeros = np.zeros(num_v + num_c, dtype=np.int64)
        costs = np.concatenate([zeros, pair_cost, np.zeros(num_r + 1, dtype=np.int64)])
        network.add_arcs_with_capacity_and_unit_cost(tails, heads, capacities, costs)
        network.set_nodes_supplies(np.arange(nodes, dtype=np.int64), supplies)
        if network.solve() != network.OPTIMAL:
            return trivial_coverage, trivial_score
        bounds.append(-network.optimal_cost())
    return min(bounds[0], trivial_coverage), min(bounds[1], trivial_score)


def _coverage_by_levels(
    tails: np.ndarray,
    heads: np.ndarray,
    capacities: np.ndarray,
    num_r: int,
    levels: np.ndarray,
    priority: np.ndarray,
    source: int,
    sink: int,
) -> int | None:
    """The coverage optimum of the relaxation's network, by max flows instead of a min-cost flow.

    A place's worth depends only on its request, so the places a flow can fill at once are the
    independent sets of a matroid (a gammoid), and the greedy choice by worth is optimal: the best
    coverage is the sum over priority levels w (highest first) of w × (the places fillable from
    requests worth at least w, less those worth more). Each term is one max flow: with the product's
    three levels, many times faster than the min-cost flow, with the same value. None if a max flow fails.
    """
    request_arcs = slice(len(tails) - num_r - 1, len(tails) - 1)  # request -> sink; the last arc is the bypass
    total = filled_above = 0
    for level in levels.tolist():
        capped = capacities.copy()
        capped[request_arcs] = np.where(priority >= level, capacities[request_arcs], 0)
        capped[-1] = 0
        network = max_flow.SimpleMaxFlow()
        network.add_arcs_with_capacity(tails, heads, capped)
        if network.solve(source, sink) != network.OPTIMAL:
            return None
        filled = network.optimal_flow()
        total += level * (filled - filled_above)
        filled_above = filled
    return total


def most_places(arrays: ComponentArrays) -> np.ndarray:
    """Per volunteer, the most places they could take: as many of their smallest loads as fit their
    capacity (every plan's count is at most this, whatever loads it picks)."""
    pv, load = arrays.pv, arrays.load
    by_load = np.lexsort((load, pv))
    first = np.searchsorted(pv[by_load], pv[by_load], side="left")
    running = np.cumsum(load[by_load])
    within = running - np.where(first > 0, running[np.maximum(first - 1, 0)], 0)
    return np.bincount(pv[by_load][within <= arrays.capacity[pv[by_load]]], minlength=len(arrays.capacity))


def _clique_partition(component: Component) -> np.ndarray:
    """A clique id per pair: each volunteer's pairs split into groups that pairwise clash (greedy,
    most-clashing pairs first). Only the volunteer's own effective clashes are used."""
    n = component.num_pairs
    neighbours: list[set[int]] = [set() for _ in range(n)]
    for a, b in component.clashes:
        neighbours[a].add(b)
        neighbours[b].add(a)
    clique = np.full(n, -1, dtype=np.int64)
    next_id = 0
    order = sorted(range(n), key=lambda p: (-len(neighbours[p]), p))
    for p in order:
        if clique[p] >= 0:
            continue
        members = [p]
        clique[p] = next_id
        if neighbours[p]:
            for q in sorted(neighbours[p], key=lambda q: (-len(neighbours[q]), q))[:CLIQUE_EFFORT]:
                if clique[q] < 0 and all(q in neighbours[m] for m in members):
                    members.append(q)
                    clique[q] = next_id
        next_id += 1
    return clique
