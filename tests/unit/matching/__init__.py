"""Solver tests. Shared plain-function helpers: instance factories, a rule checker and a
brute-force optimum to compare the solver against."""

from __future__ import annotations

import itertools
import random
from collections import Counter
from decimal import Decimal
from typing import Any

from matching.solver.instance import Instance, Pair, Request, Volunteer
from matching.solver.plan import Assignment, Plan


def make_instance(
    volunteers: dict[str, float],
    requests: dict[str, tuple[int, int] | tuple[int, int, bool]],
    pairs: list[tuple[str, str, float, float]],
    clashes: list[tuple[str, str]] = (),
) -> Instance:
    """Compact hand-written instances: {id: capacity}, {id: (needed, priority[, all_or_nothing])},
    [(volunteer, request, load, score)], [(request, request)]."""
    return Instance(
        tuple(Volunteer(v, capacity) for v, capacity in volunteers.items()),
        tuple(Request(r, *spec) for r, spec in requests.items()),
        tuple(Pair(v, r, load, score) for v, r, load, score in pairs),
        tuple(clashes),
    )


def random_instance(seed: int, *, max_pairs: int = 10, flow_only: bool = False) -> Instance:
    """A small random instance. `flow_only` keeps it inside what min-cost flow represents
    exactly: one load per volunteer, no all-or-nothing team, no clashes."""
    rnd = random.Random(seed)
    num_volunteers, num_requests = rnd.randint(1, 4), rnd.randint(1, 4)
    volunteer_ids = [f"v{i}" for i in range(num_volunteers)]
    request_ids = [f"r{j}" for j in range(num_requests)]
    volunteers = {v: rnd.choice([0, 1, 2, 3, 4.5, 6]) for v in volunteer_ids}
    requests: dict[str, tuple[int, int, bool]] = {}
    for r in request_ids:
        needed = rnd.randint(1, 3)
        requests[r] = (needed, rnd.choice([0, 1, 1, 2, 3]), not flow_only and rnd.random() < 0.4)
    every_pair = list(itertools.product(volunteer_ids, request_ids))
    chosen = rnd.sample(every_pair, min(len(every_pair), rnd.randint(1, max_pairs)))
    own_load = {v: rnd.choice([0, 1, 1.5, 2, 3]) for v in volunteer_ids}
    pairs = []
    for v, r in sorted(chosen):
        load = own_load[v] if flow_only else rnd.choice([0, 1, 1.5, 2, 2.5, 3])
        pairs.append((v, r, load, round(rnd.uniform(-2, 2), 3)))
    clashes = []
    if not flow_only:
        clashes = [c for c in itertools.combinations(request_ids, 2) if rnd.random() < 0.35]
    return make_instance(volunteers, requests, pairs, clashes)


def broken_rules(instance: Instance, plan: Plan) -> list[str]:
    """Every hard rule the plan breaks, in words (empty when the plan is valid)."""
    problems = []
    pairs = {(p.volunteer, p.request): p for p in instance.pairs}
    requests = {r.id: r for r in instance.requests}
    capacity = {v.id: v.capacity_milli for v in instance.volunteers}
    chosen = [(a.volunteer, a.request) for a in plan.assignments]
    if len(set(chosen)) != len(chosen):
        problems.append("a pair is assigned twice")
    for key in chosen:
        if key not in pairs:
            problems.append(f"{key} is not a listed pair")
    chosen = [key for key in chosen if key in pairs]
    per_request = Counter(r for _, r in chosen)
    for r, count in per_request.items():
        if count > requests[r].needed:
            problems.append(f"{r} has {count} people but needs {requests[r].needed}")
        if requests[r].all_or_nothing and count not in (0, requests[r].needed):
            problems.append(f"{r} is all-or-nothing but has {count} of {requests[r].needed}")
    load = Counter()
    for key in chosen:
        load[key[0]] += pairs[key].load_milli
    for v, used in load.items():
        if used > capacity[v]:
            problems.append(f"{v} carries {used} thousandths over capacity {capacity[v]}")
    taken = set(chosen)
    for first, second in instance.clashes:
        for v in capacity:
            if (v, first) in taken and (v, second) in taken:
                problems.append(f"{v} takes clashing {first} and {second}")
    return problems


def plan_value(instance: Instance, plan: Plan) -> tuple[int, int]:
    """(coverage, score in thousandths) recomputed from the plan's assignments."""
    pairs = {(p.volunteer, p.request): p for p in instance.pairs}
    priority = {r.id: r.priority for r in instance.requests}
    return (
        sum(priority[a.request] for a in plan.assignments),
        sum(pairs[(a.volunteer, a.request)].score_milli for a in plan.assignments),
    )


def brute_force(instance: Instance) -> tuple[int, int]:
    """The lexicographic optimum (coverage, score thousandths) by trying every subset."""
    pairs = instance.pairs
    assert len(pairs) <= 16, "brute force is for tiny instances"
    best = (0, 0)
    for mask in range(1, 1 << len(pairs)):
        subset = [pairs[i] for i in range(len(pairs)) if mask >> i & 1]
        fake = Plan(tuple(Assignment(p.volunteer, p.request) for p in subset), 0, 0.0, 0, 0.0, False, 0.0)
        if not broken_rules(instance, fake):
            best = max(best, plan_value(instance, fake))
    return best


def milli(value: float) -> int:
    """A plan's float score back in exact thousandths."""
    return int((Decimal(repr(value)) * 1000).to_integral_value())


def instance_json(**overrides: Any) -> dict[str, Any]:
    """A small valid instance in its JSON shape; keyword arguments replace top-level keys."""
    data: dict[str, Any] = {
        "volunteers": [{"id": "v1", "capacity": 16}, {"id": "v2", "capacity": 4.5}],
        "requests": [
            {"id": "r1", "needed": 1, "priority": 2, "all_or_nothing": False},
            {"id": "r2", "needed": 2, "priority": 1},
        ],
        "pairs": [
            {"volunteer": "v1", "request": "r1", "load": 2.5, "score": 0.8},
            {"volunteer": "v2", "request": "r1", "load": 2.5, "score": 0.9},
            {"volunteer": "v1", "request": "r2", "load": 3, "score": -0.25},
        ],
        "clashes": [["r1", "r2"]],
    }
    data.update(overrides)
    return data
