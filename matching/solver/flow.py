"""The min-cost-flow path: exact and polynomial when a component has no knapsack, no
all-or-nothing team and no clash a volunteer could break.

Pure module. Network (one unit of flow = one person in one place):

    source --(units_v, 0)--> volunteer v --(1, cost_p)--> request r --(needed_r, 0)--> sink
    source --(1, cost_p)--> request r            for a pair with zero load (uses no capacity)
    source --(supply, 0)--> sink                 bypass: nobody is forced into a bad pair

Every pair arc costs -(priority × BIG + score), so the cheapest flow is the plan of
greatest weight. BIG exceeds the widest gap in total score between any two plans, so one
unit of priority-weighted coverage outweighs any score difference: the single cost is
exactly the lexicographic order (coverage first, then score). Flow polytopes have integral
optima, so the answer is optimal for the 0/1 problem and bound == value.
"""

from __future__ import annotations

import numpy as np
from ortools.graph.python import min_cost_flow

from matching.solver.components import Component, Outcome, value

# OR-Tools' cost-scaling algorithm multiplies costs by (nodes + 1); stay well inside int64.
_COST_LIMIT = 2**62


def flow_exact(component: Component) -> bool:
    """Whether the flow model above is exact for this component."""
    return (
        not component.clashes
        and not component.has_all_or_nothing()
        and all(units is not None for units in component.unit_capacities())
    )


def solve_flow(component: Component) -> Outcome | None:
    """Solve a flow-exact component optimally; None if its costs would overflow int64
    (only with extreme priorities/scores) so that the caller can use CP-SAT instead.
    """
    units = component.unit_capacities()
    if any(u is None for u in units):
        raise ValueError("solve_flow needs every volunteer's capacity to be a count of places")
    num_pairs, num_volunteers = component.num_pairs, len(component.volunteer_ids)
    pair_priority = np.array([component.priority[r] for r in component.pair_request], dtype=np.int64)
    score = np.array(component.score, dtype=np.int64)
    load = np.array(component.load, dtype=np.int64)

    max_flow = min(sum(component.needed), num_pairs)
    score_span = min(int(np.abs(score).sum()), max_flow * (max(int(score.max()), 0) - min(int(score.min()), 0)))
    big = score_span + 1
    num_nodes = 2 + num_volunteers + len(component.request_ids)
    max_cost = int(pair_priority.max()) * big + int(np.abs(score).max())
    if max_cost * (num_nodes + 1) >= _COST_LIMIT or max_cost * num_pairs >= _COST_LIMIT:
        return None

    source, sink, first_volunteer = 0, 1, 2
    first_request = first_volunteer + num_volunteers
    pair_volunteer = np.array(component.pair_volunteer, dtype=np.int64)
    pair_request = np.array(component.pair_request, dtype=np.int64)
    # Pair arcs come first so that arc index == local pair index when reading flows back.
    tails = [
        np.where(load > 0, first_volunteer + pair_volunteer, source),
        np.full(num_volunteers, source, dtype=np.int64),
        first_request + np.arange(len(component.request_ids), dtype=np.int64),
        np.array([source], dtype=np.int64),
    ]
    heads = [
        first_request + pair_request,
        first_volunteer + np.arange(num_volunteers, dtype=np.int64),
        np.full(len(component.request_ids), sink, dtype=np.int64),
        np.array([sink], dtype=np.int64),
    ]
    capacities = [
        np.ones(num_pairs, dtype=np.int64),
        np.array(units, dtype=np.int64),
        np.array(component.needed, dtype=np.int64),
        np.array([max_flow], dtype=np.int64),
    ]
    costs = [
        -(pair_priority * big + score),
        np.zeros(num_volunteers, dtype=np.int64),
        np.zeros(len(component.request_ids), dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    ]

    network = min_cost_flow.SimpleMinCostFlow()
    network.add_arcs_with_capacity_and_unit_cost(
        np.concatenate(tails), np.concatenate(heads), np.concatenate(capacities), np.concatenate(costs)
    )
    supplies = np.zeros(num_nodes, dtype=np.int64)
    supplies[source], supplies[sink] = max_flow, -max_flow
    network.set_nodes_supplies(np.arange(num_nodes, dtype=np.int64), supplies)
    status = network.solve()
    if status == network.BAD_COST_RANGE:
        return None
    if status != network.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed with status {status}")  # the bypass makes it feasible
    flows = network.flows(np.arange(num_pairs, dtype=np.int64))
    chosen = [int(p) for p in np.flatnonzero(flows > 0)]
    coverage, total = value(component, chosen)
    return Outcome(chosen, coverage, total, optimal=True)
