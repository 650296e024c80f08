"""The matching solver: an optimal plan for an Instance, coverage first, then score.

Pure module (no Flask, no ORM). `solve` presolves the instance, splits it into independent
components and gives each the cheapest exact method:

- direct: one request, or one volunteer with a count-like capacity — sorting is exact;
- flow: no knapsack, no all-or-nothing team, no clash a volunteer could break —
  min-cost flow is exact and polynomial;
- cpsat: everything else — CP-SAT, two lexicographic phases, within a time budget.

Small CP-SAT components are solved together in batches (they stay independent inside one
model), so a city of many little knapsacks does not pay CP-SAT's start-up cost thousands
of times. See docs/matching.md for the model, guarantees and limits.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any, Literal

from matching.components import Component, Decomposition, Outcome, decompose, merge, value
from matching.cpsat import Budget, solve_cpsat
from matching.direct import solve_direct
from matching.flow import flow_exact, solve_flow
from matching.instance import SCALE, Instance

Path = Literal["auto", "flow", "cpsat"]

DEFAULT_TIME_LIMIT = 10.0

# CP-SAT's deterministic time is its own work counter, roughly "seconds on a reference
# machine". Budgets are set in it so that the same input gives the same plan whatever the
# machine load; the wall clock is only a backstop. On the 2-core development machine one
# unit took ~0.7-2 wall seconds of search (presolve is barely counted), so 0.3 units per
# second of time limit lets deterministic time bind first on an ordinary day.
DETERMINISTIC_PER_SECOND = 0.3

# CP-SAT components below SMALL_PAIRS pairs are merged into models of up to BATCH_PAIRS.
SMALL_PAIRS = 2_000
BATCH_PAIRS = 20_000


@dataclass(frozen=True, slots=True)
class Assignment:
    """One chosen pair: this volunteer takes one place on this request."""

    volunteer: str
    request: str


@dataclass(frozen=True)
class Plan:
    """A solved instance.

    `coverage` is the sum of request priority over assignments; `score` the sum of pair
    scores. `bound_coverage`/`bound_score` are upper bounds on the optimal plan's values
    (equal to them when `optimal`). `seconds` is wall time; `stats` says how it was solved.
    """

    assignments: tuple[Assignment, ...]
    coverage: int
    score: float
    bound_coverage: int
    bound_score: float
    optimal: bool
    seconds: float
    stats: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Unit:
    """A component, or a batch of small ones, and how it was solved."""

    component: Component
    path: str
    members: int = 1
    outcome: Outcome | None = None


def solve(
    instance: Instance, time_limit: float = DEFAULT_TIME_LIMIT, *, path: Path = "auto", workers: int = 2, seed: int = 0
) -> Plan:
    """Find the plan with the most priority-weighted coverage, then the highest score.

    `time_limit` (seconds) caps the CP-SAT search; direct and flow components are always
    solved to optimality. `path` forces every component through one method ("flow" raises
    ValueError on a component the flow model cannot represent exactly) — for tests and
    benchmarks. `workers` (1 or 2) are CP-SAT threads; `seed` fixes its randomness. The
    same instance and arguments give the same plan, unless the wall-clock backstop had to
    stop a search (counted in `stats["wall_limit_hits"]`).
    """
    started = time.perf_counter()
    if not (isinstance(time_limit, int | float) and math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number of threads (1 or 2), got {workers!r}")
    if path not in ("auto", "flow", "cpsat"):
        raise ValueError(f"path must be 'auto', 'flow' or 'cpsat', got {path!r}")
    deadline = started + time_limit
    decomposition = decompose(instance)

    units: list[_Unit] = []
    waiting: list[Component] = []  # for CP-SAT
    overflow = 0
    for component in decomposition.components:
        if path == "cpsat":
            waiting.append(component)
            continue
        if path == "auto":
            outcome = solve_direct(component)
            if outcome is not None:
                units.append(_Unit(component, "direct", outcome=outcome))
                continue
        exact = flow_exact(component)
        if path == "flow" and not exact:
            raise ValueError(
                f"path='flow' but the component with requests {component.request_ids[:5]} "
                "has a knapsack, an all-or-nothing team or a clash"
            )
        if exact:
            outcome = solve_flow(component)
            if outcome is not None:
                units.append(_Unit(component, "flow", outcome=outcome))
                continue
            overflow += 1
        waiting.append(component)

    cpsat_units = _batches(waiting)
    deterministic_left = time_limit * DETERMINISTIC_PER_SECOND
    pairs_left = sum(unit.component.num_pairs for unit in cpsat_units)
    # Smallest first: they usually finish early and pass their unused time on.
    for unit in sorted(cpsat_units, key=lambda u: u.component.num_pairs):
        share = unit.component.num_pairs / pairs_left
        budget = Budget(
            deterministic=deterministic_left * share,
            wall=max(deadline - time.perf_counter(), 0.0) * share,
            workers=workers,
            seed=seed,
        )
        unit.outcome = solve_cpsat(unit.component, budget)
        deterministic_left = max(deterministic_left - unit.outcome.deterministic_time, 0.0)
        pairs_left -= unit.component.num_pairs
    units += cpsat_units
    return _plan(instance, decomposition, units, overflow, time_limit, workers, started)


def _batches(components: list[Component]) -> list[_Unit]:
    """Merge small components into batches; big ones stay alone. Order is deterministic."""
    units, batch, batch_pairs = [], [], 0
    for component in components:
        if component.num_pairs >= SMALL_PAIRS:
            units.append(_Unit(component, "cpsat"))
            continue
        if batch and batch_pairs + component.num_pairs > BATCH_PAIRS:
            units.append(_Unit(merge(batch), "cpsat", members=len(batch)))
            batch, batch_pairs = [], 0
        batch.append(component)
        batch_pairs += component.num_pairs
    if batch:
        units.append(_Unit(merge(batch), "cpsat", members=len(batch)))
    return units


def _plan(
    instance: Instance,
    decomposition: Decomposition,
    units: list[_Unit],
    overflow: int,
    time_limit: float,
    workers: int,
    started: float,
) -> Plan:
    assignments: list[Assignment] = []
    coverage = score = bound_coverage = bound_score = 0
    paths = {name: {"components": 0, "pairs": 0} for name in ("direct", "flow", "cpsat")}
    for unit in units:
        component, outcome = unit.component, unit.outcome
        assert outcome is not None
        unit_coverage, unit_score = value(component, outcome.chosen)
        coverage += unit_coverage
        score += unit_score
        bound_coverage += outcome.bound_coverage
        bound_score += outcome.bound_score
        paths[unit.path]["components"] += unit.members
        paths[unit.path]["pairs"] += component.num_pairs
        assignments += [
            Assignment(
                component.volunteer_ids[component.pair_volunteer[p]], component.request_ids[component.pair_request[p]]
            )
            for p in outcome.chosen
        ]
    cpsat = [unit.outcome for unit in units if unit.path == "cpsat" and unit.outcome is not None]
    stats = {
        "volunteers": len(instance.volunteers),
        "requests": len(instance.requests),
        "pairs": decomposition.pairs_in,
        "pairs_after_presolve": decomposition.pairs_kept,
        "clashes": decomposition.clashes_in,
        "clashes_effective": decomposition.clashes_effective,
        "components": len(decomposition.components),
        "largest_component_pairs": max((c.num_pairs for c in decomposition.components), default=0),
        "paths": paths,
        "flow_overflow_fallbacks": overflow,
        "cpsat_models": len(cpsat),
        "cpsat_models_proven": sum(outcome.optimal for outcome in cpsat),
        "deterministic_time": round(sum(outcome.deterministic_time for outcome in cpsat), 3),
        "wall_limit_hits": sum(outcome.wall_limit_hit for outcome in cpsat),
        "time_limit": time_limit,
        "workers": workers,
    }
    return Plan(
        assignments=tuple(sorted(assignments, key=_assignment_key)),
        coverage=coverage,
        score=score / SCALE,
        bound_coverage=bound_coverage,
        bound_score=bound_score / SCALE,
        optimal=all(unit.outcome is not None and unit.outcome.optimal for unit in units),
        seconds=time.perf_counter() - started,
        stats=stats,
    )


def _assignment_key(assignment: Assignment) -> tuple[str, str]:
    # By request first: that is how a sergeant reads a plan.
    return (assignment.request, assignment.volunteer)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """The documented JSON shape of a plan (see docs/matching.md)."""
    return {
        "assignments": [{"volunteer": a.volunteer, "request": a.request} for a in plan.assignments],
        "coverage": plan.coverage,
        "score": plan.score,
        "bound": {"coverage": plan.bound_coverage, "score": plan.bound_score},
        "optimal": plan.optimal,
        "seconds": round(plan.seconds, 3),
        "stats": plan.stats,
    }
