"""Dense matching instances in the solver's JSON format (docs/matching.md, "Instance format").

The London week is sparse: thousands of small components. A borough with few specialists and many
requests that any of them could take is the opposite shape, and the one the solver was not tuned for:
one component in which every volunteer is a candidate for every request, loads of 5 to 25 (hours), and
weekly capacities well below the sum of the loads, so each volunteer is a knapsack.

A shape is chosen by its name's parts:

- size: volunteers × requests (5–20 × 100–200);
- `corr` or `uncorr`: whether a pair's score and its request's priority grow with its load (the hard
  case for a knapsack: the long tasks are worth more, so no cheap rule picks between them) or are drawn
  independently of it;
- `tight` or `loose`: the volunteers' capacities add up to about 35% or 70% of the hours the requests'
  places ask for — either way far below the sum of every pair's load.

Requests need 1 or 2 people (never all-or-nothing) and there are no clashes: the instances are exactly
what the reference model (bench/dense/reference.py) describes, so the two compare like for like.
Deterministic for a seed.

    python -m bench.dense.generate --volunteers 20 --requests 200 --seed 1 --scores corr --capacity tight OUT.json
    python -m bench.dense.generate --suite DIR      # the benchmark's instances (SUITE), one file each
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

Scores = Literal["corr", "uncorr"]
Capacity = Literal["tight", "loose"]

LOAD_MIN, LOAD_MAX = 5, 25
# The share of the places' hours (needed × mean load of the request) the volunteers can give together.
CAPACITY_SHARE = {"tight": 0.35, "loose": 0.7}
# Routine, priority and urgent, weighted per place as the product weights them (matching/planning.py).
PRIORITIES = (1, 3, 9)


@dataclass(frozen=True)
class Shape:
    volunteers: int
    requests: int
    scores: Scores
    capacity: Capacity
    seed: int

    @property
    def name(self) -> str:
        return f"{self.volunteers}x{self.requests}-{self.scores}-{self.capacity}-s{self.seed}"


# The benchmark's instances: every size corner and every kind at least twice, with two seeds of the
# largest. Eight instances keep the comparison (two solvers × 5, 10 and 25 s) within about 11 minutes.
SUITE: tuple[Shape, ...] = (
    Shape(5, 100, "corr", "tight", 0),
    Shape(5, 200, "uncorr", "loose", 0),
    Shape(10, 150, "corr", "loose", 0),
    Shape(10, 150, "uncorr", "tight", 0),
    Shape(20, 100, "uncorr", "tight", 0),
    Shape(20, 200, "corr", "tight", 0),
    Shape(20, 200, "corr", "tight", 1),
    Shape(20, 200, "uncorr", "loose", 1),
)


def generate(shape: Shape) -> dict[str, Any]:
    """One dense instance as the solver's JSON dict."""
    rng = random.Random(f"dense-{shape.name}")
    requests: list[dict[str, Any]] = []
    base_load: list[int] = []
    hours_asked = 0.0
    for r in range(shape.requests):
        load = rng.randint(LOAD_MIN, LOAD_MAX)
        needed = 1 if rng.random() < 0.7 else 2
        if shape.scores == "corr":
            # Longer tasks are more often urgent: the scarce hours are also the valuable ones.
            share = (load - LOAD_MIN) / (LOAD_MAX - LOAD_MIN)
            priority = rng.choices(PRIORITIES, weights=(1.0 - 0.6 * share, 0.5, 0.1 + 0.6 * share))[0]
        else:
            priority = rng.choices(PRIORITIES, weights=(0.56, 0.31, 0.13))[0]
        requests.append({"id": f"r{r:03d}", "needed": needed, "priority": priority})
        base_load.append(load)
        hours_asked += needed * load
    total_capacity = hours_asked * CAPACITY_SHARE[shape.capacity]
    # Capacities vary ±40% around the mean share, whole hours.
    raw = [rng.uniform(0.6, 1.4) for _ in range(shape.volunteers)]
    volunteers = [
        {"id": f"v{v:02d}", "capacity": max(LOAD_MAX, round(total_capacity * w / sum(raw)))} for v, w in enumerate(raw)
    ]
    pairs: list[dict[str, Any]] = []
    for v in range(shape.volunteers):
        skill = rng.uniform(0.0, 0.6)  # the volunteer's own level, shared by all their pairs
        for r in range(shape.requests):
            # The same task takes each volunteer a little longer or shorter (their journey differs).
            load = min(LOAD_MAX, max(LOAD_MIN, base_load[r] + rng.randint(-2, 2)))
            if shape.scores == "corr":
                score = 0.1 * load + skill + rng.uniform(-0.2, 0.2)
            else:
                score = skill + rng.uniform(0.0, 2.5)
            pairs.append({"volunteer": f"v{v:02d}", "request": f"r{r:03d}", "load": load, "score": round(score, 3)})
    return {"volunteers": volunteers, "requests": requests, "pairs": pairs, "clashes": []}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dense.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--volunteers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scores", choices=["corr", "uncorr"], default="corr")
    parser.add_argument("--capacity", choices=["tight", "loose"], default="tight")
    parser.add_argument("--suite", metavar="DIR", help="write every instance of SUITE into DIR instead")
    parser.add_argument("out", nargs="?", help="the instance file to write (- for standard output)")
    args = parser.parse_args(argv)
    if args.suite:
        folder = Path(args.suite)
        folder.mkdir(parents=True, exist_ok=True)
        for shape in SUITE:
            (folder / f"{shape.name}.json").write_text(json.dumps(generate(shape)))
            print(folder / f"{shape.name}.json")
        return 0
    if not args.out:
        parser.error("give an output file, or --suite DIR")
    data = json.dumps(generate(Shape(args.volunteers, args.requests, args.scores, args.capacity, args.seed)))
    if args.out == "-":
        print(data)
    else:
        Path(args.out).write_text(data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
