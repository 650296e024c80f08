"""The matching solver: an optimal plan for an Instance, coverage first, then score.

Pure module (no Flask, no ORM). `solve` presolves the instance, splits it into independent
components and gives each the cheapest exact method:

- direct: one request, or one volunteer with a count-like capacity — sorting is exact;
- flow: no knapsack, no all-or-nothing team, no clash a volunteer could break —
  min-cost flow is exact and polynomial;
- cpsat: everything else — CP-SAT, two lexicographic phases, within a time budget; a dense
  component (few volunteers, each a candidate for most of many requests) goes to
  matching/solver/dense.py instead, which uses its whole share of the time limit unless it proves
  the optimum sooner.

Small CP-SAT components are solved together in batches (they stay independent inside one
model), so a city of many little knapsacks does not pay CP-SAT's start-up cost thousands
of times. A huge component (a whole city linked into one) is improved part by part from a
starting plan and bounded by a flow relaxation (matching/solver/partition.py): valid, not proven.
See docs/matching.md for the model, guarantees and limits.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from matching.solver.components import Component, Decomposition, Outcome, decompose, merge, value
from matching.solver.cpsat import Budget, solve_cpsat
from matching.solver.dense import is_dense, solve_dense
from matching.solver.direct import solve_direct
from matching.solver.flow import flow_exact, solve_flow
from matching.solver.instance import SCALE, Instance
from matching.solver.local_first import has_panels, repair, ring_fence
from matching.solver.partition import solve_huge

Path = Literal["auto", "flow", "cpsat"]

DEFAULT_TIME_LIMIT = 10.0

# CP-SAT's deterministic time is its own work counter, roughly "seconds on a reference
# machine". Budgets are set in it so that the same input gives the same plan whatever the
# machine load; the wall clock is only a backstop. On the 2-core hosts a unit of search takes
# roughly one to two wall seconds (presolve is barely counted), so 0.3 units per second of
# time limit lets deterministic time bind first unless the machine is heavily loaded.
DETERMINISTIC_PER_SECOND = 0.3

# CP-SAT components below SMALL_PAIRS pairs are merged into models of up to BATCH_PAIRS.
SMALL_PAIRS = 2_000
BATCH_PAIRS = 20_000

# A CP-SAT component with at least HUGE_PAIRS pairs (after presolve) is too big for one model in
# the time a sergeant waits: its plan is improved part by part, parts of about PART_PAIRS pairs
# (matching/solver/partition.py). The plan is valid and comes with a true bound, but is not proven.
# (A huge component that min-cost flow represents exactly still goes to flow: exact and fast.)
# Parts are small because small models are proven within their budget, and the time they save goes to
# the later passes over parts with other borders (partition.PASSES); bigger parts give less coverage in
# more time (see bench/RESULTS.md).
HUGE_PAIRS = 60_000
PART_PAIRS = 2_500

# The least wall time a CP-SAT model is given, whatever its share (seconds): a small model loads and
# is solved in milliseconds, so this only stops the clock cutting one short before it starts.
MIN_MODEL_WALL = 0.1


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
    huge: bool = False
    dense: bool = False
    parts: dict[str, int] = field(default_factory=dict)
    hint: list[int] | None = None


def solve(
    instance: Instance,
    time_limit: float = DEFAULT_TIME_LIMIT,
    *,
    path: Path = "auto",
    workers: int = 2,
    seed: int = 0,
    hint: Iterable[tuple[str, str]] | None = None,
) -> Plan:
    """Find the plan with the most priority-weighted coverage, then the highest score.

    `time_limit` (seconds) is the CP-SAT budget; direct and flow components are always
    solved to optimality. A dense component not proven optimal searches until its share of it is
    spent (matching/solver/dense.py); the others stop at their deterministic share. `path` forces
    every component through one method ("flow" raises ValueError on a component the flow model
    cannot represent exactly; a dense component is still solved as dense on "cpsat") — for tests and
    benchmarks. `workers` (1 or 2) are CP-SAT threads; `seed` fixes its randomness. The
    same instance and arguments give the same plan, unless the wall-clock backstop had to
    stop a search, or a dense component was not proven (both counted in `stats["wall_limit_hits"]`).

    `hint` is a valid plan to start from, as (volunteer id, request id) pairs (for example the
    plan already proposed, or a quick heuristic's): the plan returned is never worse than it.
    A hint that breaks a hard rule raises ValueError.

    Local first (matching/solver/local_first.py, docs/matching.md): on an instance with panels, the
    pairs a ring-fence forbids are dropped before solving (and from the hint, with the rest of a team
    that loses one), and whatever path found the plan, ``local_first.repair`` then makes it keep the
    rule. The bound stays the bound of the instance without the rule, so it still bounds the plan.
    """
    started = time.perf_counter()
    if not (isinstance(time_limit, int | float) and math.isfinite(time_limit) and time_limit > 0):
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be a whole number of threads (1 or 2), got {workers!r}")
    if path not in ("auto", "flow", "cpsat"):
        raise ValueError(f"path must be 'auto', 'flow' or 'cpsat', got {path!r}")
    deadline = started + time_limit
    instance, fenced = ring_fence(instance)
    if fenced and hint is not None:
        hint = _fenced_hint(instance, hint)
    hinted = _checked_hint(instance, hint)
    decomposition = decompose(instance)
    hints = _local_hints(decomposition, hinted)

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

    cpsat_units = _batches(waiting, hints)
    deterministic_left = time_limit * DETERMINISTIC_PER_SECOND
    pairs_left = sum(unit.component.num_pairs for unit in cpsat_units)
    # Smallest first: they usually finish early and pass their unused time on.
    for unit in sorted(cpsat_units, key=lambda u: u.component.num_pairs):
        share = unit.component.num_pairs / pairs_left
        budget = Budget(
            deterministic=deterministic_left * share,
            # A model's share of the time left can be microseconds (a 2-pair batch beside a city): too
            # little even to load it, and a search stopped by the clock may differ between runs.
            wall=max(max(deadline - time.perf_counter(), 0.0) * share, MIN_MODEL_WALL),
            workers=workers,
            seed=seed,
        )
        if unit.huge:
            unit.outcome, unit.parts = solve_huge(unit.component, budget, part_pairs=PART_PAIRS, hint=unit.hint)
        elif unit.dense:
            unit.outcome = solve_dense(unit.component, budget, hint=unit.hint)
        else:
            unit.outcome = solve_cpsat(unit.component, budget, hint=unit.hint)
        deterministic_left = max(deterministic_left - unit.outcome.deterministic_time, 0.0)
        pairs_left -= unit.component.num_pairs
    units += cpsat_units
    plan = _plan(instance, decomposition, units, overflow, time_limit, workers, started)
    return _local_first(instance, plan, fenced, started) if has_panels(instance) else plan


def _fenced_hint(instance: Instance, hint: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The hint without the pairs the ring-fence dropped, and without the rest of any team that lost one."""
    listed = {(p.volunteer, p.request) for p in instance.pairs}
    chosen = [(str(v), str(r)) for v, r in hint]
    broken = {r for v, r in chosen if (v, r) not in listed}
    teams = {r.id for r in instance.requests if r.all_or_nothing}
    return [(v, r) for v, r in chosen if (v, r) in listed and not (r in broken and r in teams)]


def _local_first(instance: Instance, plan: Plan, fenced: int, started: float) -> Plan:
    """The plan made to keep the local-first rule (``local_first.repair``), with what it took in ``stats``."""
    fixed = repair(instance, [(a.volunteer, a.request) for a in plan.assignments])
    stats = plan.stats | fixed.stats | {"ring_fence_pairs_dropped": fenced}
    if not fixed.moves:
        return replace(plan, stats=stats, seconds=time.perf_counter() - started)
    coverage, score = fixed.coverage, fixed.score_milli / SCALE
    return Plan(
        assignments=tuple(sorted((Assignment(v, r) for v, r in fixed.assignments), key=_assignment_key)),
        coverage=coverage,
        score=score,
        bound_coverage=plan.bound_coverage,
        bound_score=plan.bound_score,
        # Proven only where the repaired plan still reaches the bound of the instance without the rule.
        optimal=plan.optimal and coverage == plan.bound_coverage and score == plan.bound_score,
        seconds=time.perf_counter() - started,
        stats=stats,
    )


def _batches(components: list[Component], hints: dict[int, list[int]]) -> list[_Unit]:
    """Merge small components into batches; big ones stay alone. Order is deterministic.
    `hints` (by id() of the component) are carried along, shifted into each batch's numbering."""
    units: list[_Unit] = []
    batch: list[Component] = []
    batch_pairs = 0

    def flush() -> None:
        hint, offset = [], 0
        for member in batch:
            hint += [p + offset for p in hints.get(id(member), [])]
            offset += member.num_pairs
        units.append(_Unit(merge(batch), "cpsat", members=len(batch), hint=hint if hints else None))

    for component in components:
        dense = component.num_pairs < HUGE_PAIRS and is_dense(component)
        if component.num_pairs >= min(SMALL_PAIRS, HUGE_PAIRS) or dense:
            hint = hints.get(id(component)) if hints else None
            units.append(_Unit(component, "cpsat", huge=component.num_pairs >= HUGE_PAIRS, dense=dense, hint=hint))
            continue
        if batch and batch_pairs + component.num_pairs > BATCH_PAIRS:
            flush()
            batch, batch_pairs = [], 0
        batch.append(component)
        batch_pairs += component.num_pairs
    if batch:
        flush()
    return units


def _checked_hint(instance: Instance, hint: Iterable[tuple[str, str]] | None) -> set[tuple[str, str]] | None:
    """The hint as a set of (volunteer, request) pairs, after checking it is a valid plan."""
    if hint is None:
        return None
    chosen = {(str(v), str(r)) for v, r in hint}
    pairs = {(p.volunteer, p.request): p for p in instance.pairs}
    requests = {r.id: r for r in instance.requests}
    capacity = {v.id: v.capacity_milli for v in instance.volunteers}
    used: dict[str, int] = {}
    count: dict[str, int] = {}
    for key in chosen:
        if key not in pairs:
            raise ValueError(f"hint: {key} is not a listed pair")
        used[key[0]] = used.get(key[0], 0) + pairs[key].load_milli
        count[key[1]] = count.get(key[1], 0) + 1
    for v, load in used.items():
        if load > capacity[v]:
            raise ValueError(f"hint: volunteer {v!r} is over capacity")
    for r, filled in count.items():
        request = requests[r]
        if filled > request.needed or (request.all_or_nothing and filled < request.needed):
            raise ValueError(f"hint: request {r!r} has {filled} of {request.needed} people")
    on_request: dict[str, set[str]] = {}
    for v, r in chosen:
        on_request.setdefault(r, set()).add(v)
    for first, second in instance.clashes:
        both = on_request.get(first, set()) & on_request.get(second, set())
        if both:
            raise ValueError(f"hint: volunteer {min(both)!r} takes clashing {first!r} and {second!r}")
    return chosen


def _local_hints(decomposition: Decomposition, hinted: set[tuple[str, str]] | None) -> dict[int, list[int]]:
    """Per component (by id()), the hint's pairs as local pair indices. Pairs presolve dropped
    (priority 0 and score <= 0) are left out: a plan without them is still valid."""
    if not hinted:
        return {}
    hints: dict[int, list[int]] = {}
    for component in decomposition.components:
        vids, rids = component.volunteer_ids, component.request_ids
        local = [
            p
            for p, (v, r) in enumerate(zip(component.pair_volunteer, component.pair_request, strict=True))
            if (vids[v], rids[r]) in hinted
        ]
        if local:
            hints[id(component)] = local
    return hints


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
        "huge_components": sum(unit.huge for unit in units),
        "dense_components": sum(unit.dense for unit in units),
        "parts": sum(unit.parts.get("parts", 0) for unit in units),
        "parts_improved": sum(unit.parts.get("parts_improved", 0) for unit in units),
        "parts_full": sum(unit.parts.get("parts_full", 0) for unit in units),
        "parts_stopped_by_clock": sum(unit.parts.get("parts_stopped_by_clock", 0) for unit in units),
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
