"""Exact answers, without an optimiser, for the many tiny components of a city instance.

Pure module. Two shapes are solved by sorting:
- one request: every pair has its own volunteer (pairs are unique), clashes need two
  requests and presolve already dropped loads over capacity, so the only rule left is
  `needed` — take the best-scoring pairs;
- one volunteer whose capacity is a plain count of places (see
  `Component.unit_capacities`) and who has no effective clash: take the best pairs up to
  that count. Presolve leaves no all-or-nothing request here (one volunteer can give it at
  most one of the `needed` > 1 people).
"""

from __future__ import annotations

from matching.solver.components import Component, Outcome, value


def solve_direct(component: Component) -> Outcome | None:
    """Solve `component` exactly if it has one of the two shapes above; otherwise None."""
    if len(component.request_ids) == 1:
        chosen = _one_request(component)
    elif len(component.volunteer_ids) == 1 and not component.clashes and not component.has_all_or_nothing():
        units = component.unit_capacities()[0]
        if units is None:
            return None
        chosen = _one_volunteer(component, units)
    else:
        return None
    coverage, score = value(component, chosen)
    return Outcome(sorted(chosen), coverage, score, optimal=True)


def _one_request(component: Component) -> list[int]:
    needed, priority = component.needed[0], component.priority[0]
    best = sorted(range(component.num_pairs), key=lambda p: (-component.score[p], p))[:needed]
    if component.all_or_nothing[0]:
        if len(best) < needed:
            return []
        # With priority 0 the team only earns its scores; an empty request is as good at 0.
        return best if priority > 0 or sum(component.score[p] for p in best) > 0 else []
    return best if priority > 0 else [p for p in best if component.score[p] > 0]


def _one_volunteer(component: Component, units: int) -> list[int]:
    priority = [component.priority[r] for r in component.pair_request]
    worth = [p for p in range(component.num_pairs) if priority[p] > 0 or component.score[p] > 0]
    free = [p for p in worth if component.load[p] == 0]  # zero load never uses capacity
    paid = sorted((p for p in worth if component.load[p] > 0), key=lambda p: (-priority[p], -component.score[p], p))
    return free + paid[:units]
