"""The same input gives the same plan: run twice, in another process, or listed in another order."""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
from pathlib import Path

from matching.solver.components import decompose
from matching.solver.cpsat import Budget, solve_cpsat
from matching.solver.instance import Instance, instance_to_dict
from matching.solver.plan import plan_to_json, solve
from tests.unit.matching import broken_rules, make_instance

REPO = Path(__file__).resolve().parents[3]


def borough_week(seed: int = 7, volunteers: int = 400, requests: int = 150) -> Instance:
    """A mid-sized mixed instance: knapsacks, clashes and two-person visits in one component."""
    rnd = random.Random(seed)
    capacity = {f"v{i:03}": rnd.choice([4, 8, 12, 16]) for i in range(volunteers)}
    spec = {}
    for j in range(requests):
        team = rnd.random() < 0.15
        spec[f"r{j:03}"] = (rnd.choice([2, 3]) if team else rnd.choice([1, 1, 2]), rnd.choice([1, 2, 3, 5]), team)
    duration = {r: rnd.choice([1, 2, 2.5, 3, 4]) for r in spec}
    pairs = {(v, rnd.choice(list(spec))) for v in capacity for _ in range(6)}
    rows = [(v, r, duration[r], round(rnd.uniform(-1, 1), 3)) for v, r in sorted(pairs)]
    clashes = {tuple(sorted(rnd.sample(list(spec), 2))) for _ in range(requests)}
    return make_instance(capacity, spec, rows, sorted(clashes))


def _without_timing(data: dict) -> dict:
    return {key: value for key, value in data.items() if key != "seconds"}


def test_same_input_twice_gives_the_same_plan() -> None:
    instance = borough_week()
    first, second = solve(instance), solve(instance)
    assert not broken_rules(instance, first)
    assert first.stats["paths"]["cpsat"]["pairs"] > 2000  # the interesting path really ran
    assert first.stats["wall_limit_hits"] == 0
    assert _without_timing(plan_to_json(first)) == _without_timing(plan_to_json(second))


def test_a_search_stopped_by_deterministic_time_stops_at_the_same_plan() -> None:
    # Big enough that 0.02 units of deterministic time end the search before it is proven
    # (with OR-Tools 9.15); the generous wall limit never binds.
    component = decompose(borough_week(volunteers=2000, requests=800)).components[0]
    first, second = (solve_cpsat(component, Budget(deterministic=0.02, wall=60, workers=2)) for _ in range(2))
    assert not first.wall_limit_hit
    assert first == second


def test_input_order_does_not_change_the_plan() -> None:
    instance = borough_week()
    rnd = random.Random(1)
    shuffled = Instance(
        *(
            tuple(rnd.sample(items, len(items)))
            for items in (instance.volunteers, instance.requests, instance.pairs, instance.clashes)
        )
    )
    assert solve(shuffled).assignments == solve(instance).assignments


def test_separate_processes_with_different_hash_seeds_agree(tmp_path: Path) -> None:
    path = tmp_path / "week.json"
    path.write_text(json.dumps(instance_to_dict(borough_week(seed=11))))
    outputs = []
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, "-m", "matching.solver", str(path)],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        outputs.append(_without_timing(json.loads(done.stdout)))
    assert outputs[0] == outputs[1]
