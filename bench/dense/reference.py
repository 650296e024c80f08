"""The reference: one plain CP-SAT model of an instance, to measure the solver against (issue #22).

Nothing else: each pair a Boolean; each request's `needed` and each volunteer's capacity as linear
constraints; the solver's lexicographic goal (coverage = Σ priority per place first, then Σ score;
docs/matching.md, "The model") as ONE weighted sum, coverage × BIG + score, with BIG larger than the
widest gap in score between any two plans (Σ |score| + 1), so one unit of coverage outweighs any score
and the weighted optimum is the lexicographic one. No presolve of our own, no hint, no heuristics, no
decomposition; CP-SAT's default search with `workers` threads and a wall-clock limit.

Loads, capacities and scores are read in exact thousandths, as the solver reads them
(`matching.solver.instance`), so both report the same coverage and score for the same plan.
All-or-nothing teams and clashes are refused: the dense instances (bench/dense/generate.py) have none,
and the model the issue describes has neither.

    python -m bench.dense.reference INSTANCE.json --time-limit 25 --workers 2
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ortools.sat.python import cp_model

from matching.solver.instance import SCALE, Instance, parse_instance


@dataclass(frozen=True)
class Result:
    """The reference's plan and what CP-SAT proved."""

    assignments: list[tuple[str, str]]
    coverage: int
    score_milli: int
    bound_coverage: int  # the optimal plan's coverage is at most this
    bound_score_milli: int  # and, if it has the plan's coverage, its score at most this
    big: int
    objective_bound: float  # CP-SAT's best bound on coverage × big + score (inf when it gave none)
    optimal: bool
    seconds: float
    status: str

    @property
    def objective(self) -> int:
        return self.coverage * self.big + self.score_milli


def big_for(instance: Instance) -> int:
    """Larger than the widest gap in score (thousandths) between any two plans."""
    return sum(abs(p.score_milli) for p in instance.pairs) + 1


def solve_reference(instance: Instance, time_limit: float, workers: int = 2, seed: int = 0) -> Result:
    if instance.clashes or any(r.all_or_nothing and r.needed > 1 for r in instance.requests):
        raise ValueError("the reference model has no clashes and no all-or-nothing teams")
    started = time.perf_counter()
    model = cp_model.CpModel()
    pairs = list(instance.pairs)
    x = [model.new_bool_var(f"{p.volunteer}>{p.request}") for p in pairs]
    by_request: dict[str, list[int]] = {}
    by_volunteer: dict[str, list[int]] = {}
    for i, p in enumerate(pairs):
        by_request.setdefault(p.request, []).append(i)
        by_volunteer.setdefault(p.volunteer, []).append(i)
    for request in instance.requests:
        chosen = by_request.get(request.id, [])
        model.add(sum(x[i] for i in chosen) <= request.needed)
    for volunteer in instance.volunteers:
        chosen = by_volunteer.get(volunteer.id, [])
        model.add(sum(x[i] * pairs[i].load_milli for i in chosen) <= volunteer.capacity_milli)
    priority = {r.id: r.priority for r in instance.requests}
    big = big_for(instance)
    model.maximize(sum(x[i] * (priority[p.request] * big + p.score_milli) for i, p in enumerate(pairs)))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.max_time_in_seconds = max(time_limit - (time.perf_counter() - started), 1e-3)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):  # the empty plan is always feasible
        chosen_pairs: list[int] = []
        bound = math.inf
    else:
        chosen_pairs = [i for i, var in enumerate(x) if solver.boolean_value(var)]
        bound = solver.best_objective_bound
    coverage = sum(priority[pairs[i].request] for i in chosen_pairs)
    score = sum(pairs[i].score_milli for i in chosen_pairs)
    bound_coverage, bound_score = split_bound(bound, big, instance, coverage)
    return Result(
        assignments=sorted((pairs[i].volunteer, pairs[i].request) for i in chosen_pairs),
        coverage=coverage,
        score_milli=score,
        bound_coverage=bound_coverage,
        bound_score_milli=bound_score,
        big=big,
        objective_bound=bound,
        optimal=status == cp_model.OPTIMAL,
        seconds=time.perf_counter() - started,
        status=solver.status_name(status),
    )


def split_bound(bound: float, big: int, instance: Instance, coverage: int) -> tuple[int, int]:
    """A bound on coverage × BIG + score, as bounds on the optimal plan's coverage and (given that the
    optimum has at least the plan's `coverage`) its score. Scores lie between Σ negative and Σ positive."""
    lowest = sum(p.score_milli for p in instance.pairs if p.score_milli < 0)
    highest = sum(p.score_milli for p in instance.pairs if p.score_milli > 0)
    if not math.isfinite(bound):
        return sum(r.priority * r.needed for r in instance.requests), highest
    top = math.floor(bound + 1e-6)
    return (top - lowest) // big, min(highest, top - coverage * big)


def to_json(result: Result) -> dict[str, Any]:
    return {
        "assignments": [{"volunteer": v, "request": r} for v, r in result.assignments],
        "coverage": result.coverage,
        "score": result.score_milli / SCALE,
        "bound": {"coverage": result.bound_coverage, "score": result.bound_score_milli / SCALE},
        "big": result.big,
        "objective_bound": result.objective_bound if math.isfinite(result.objective_bound) else None,
        "optimal": result.optimal,
        "seconds": round(result.seconds, 3),
        "status": result.status,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dense.reference", description=__doc__.split("\n\n")[0])
    parser.add_argument("instance")
    parser.add_argument("--time-limit", type=float, default=25.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    instance = parse_instance(json.loads(Path(args.instance).read_text(encoding="utf-8")))
    print(json.dumps(to_json(solve_reference(instance, args.time_limit, args.workers)), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
