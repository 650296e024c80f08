"""The solver against the reference model on the dense instances, at the same limits and workers.

    python -m bench.dense.compare [--limits 5 10 25] [--workers 2] [--only NAME ...] [--json FILE] [--old]

For each instance of ``bench.dense.generate.SUITE`` and each time limit, runs the solver's command
(``python -m matching.solver FILE --time-limit T --workers W``) and then the reference
(``python -m bench.dense.reference``, the plain CP-SAT model), each in a fresh process, one after the
other so that both see the same load on the machine. Prints a Markdown table: each plan's coverage and
score; its distance from the best proven bound, ``gap %`` = (bound − objective) / bound on the weighted
objective coverage × BIG + score (BIG as the reference's, so one place of coverage outweighs any score),
the bound being the lower of the two runs' proven bounds; ``wall`` = the solve's seconds; and ``early``
when the solver stopped more than 5% before its limit without a proof of optimality (it should not).
``ok`` says whether the solver's plan is at least as good as the reference's (coverage, then score).
``--old`` adds a third side, the solver with its dense path turned off (the two phases on their
deterministic budget, as before issue #22), run third in each row; ``ok`` then asks the solver to be at
least as good as both.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.dense.generate import SUITE, generate
from matching.solver.instance import SCALE, parse_instance

REPO = Path(__file__).resolve().parents[2]


# The solver's own command with the dense path turned off (no component reaches DENSE_PAIRS): the two
# lexicographic phases on their deterministic budget, as before issue #22. A benchmark switch only, so
# the product keeps no flag for it.
OLD = (
    "import sys; import matching.solver.dense as dense; dense.DENSE_PAIRS = sys.maxsize; "
    "from matching.solver.__main__ import main; sys.exit(main(sys.argv[1:]))"
)


def _run(module: str, path: Path, limit: float, workers: int) -> dict[str, Any]:
    command = ["-c", OLD] if module == "old" else ["-m", module]
    done = subprocess.run(
        [sys.executable, *command, str(path), "--time-limit", f"{limit:g}", "--workers", str(workers)],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
        timeout=limit * 3 + 60,
    )
    return json.loads(done.stdout)


def _weighted_bound(result: dict[str, Any], big: int) -> float:
    """A bound on coverage × big + score (thousandths) of the optimal plan, from a run's report."""
    raw = result.get("objective_bound")
    own = result["bound"]["coverage"] * big + round(result["bound"]["score"] * SCALE)
    return min(own, math.floor(raw + 1e-6)) if raw is not None else own


def compare(limits: list[float], workers: int, only: list[str], old: bool = False) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for shape in SUITE:
            if only and shape.name not in only:
                continue
            data = generate(shape)
            path = Path(folder) / f"{shape.name}.json"
            path.write_text(json.dumps(data))
            instance = parse_instance(data)
            big = sum(abs(p.score_milli) for p in instance.pairs) + 1
            for limit in limits:
                ours = _run("matching.solver", path, limit, workers)
                theirs = _run("bench.dense.reference", path, limit, workers)
                sides = [("solver", ours), ("reference", theirs)]
                if old:
                    sides.append(("old", _run("old", path, limit, workers)))
                bound = min(_weighted_bound(result, big) for _, result in sides)
                row: dict[str, Any] = {"instance": shape.name, "limit": limit, "workers": workers}
                for side, result in sides:
                    objective = result["coverage"] * big + round(result["score"] * SCALE)
                    row[side] = {
                        "coverage": result["coverage"],
                        "score": result["score"],
                        "gap_percent": 100.0 * (bound - objective) / bound if bound else 0.0,
                        "optimal": result["optimal"],
                        "seconds": result["seconds"],
                    }
                row["early"] = not ours["optimal"] and ours["seconds"] < 0.95 * limit
                row["ok"] = all((ours["coverage"], ours["score"]) >= (r["coverage"], r["score"]) for _, r in sides)
                rows.append(row)
                print(_line(row), file=sys.stderr, flush=True)
    return rows


def _line(row: dict[str, Any]) -> str:
    cells = [row["instance"], f"{row['limit']:g}"]
    for side in ("solver", "reference", "old"):
        if side not in row:
            continue
        r = row[side]
        proof = " ✓" if r["optimal"] else ""
        cells += [f"{r['coverage']} / {r['score']:.3f}{proof}", f"{r['gap_percent']:.3f}", f"{r['seconds']:.1f}"]
    cells += ["yes" if row["early"] else "no", "yes" if row["ok"] else "**no**"]
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dense.compare", description=__doc__.split("\n\n")[0])
    parser.add_argument("--limits", type=float, nargs="+", default=[5.0, 10.0, 25.0])
    parser.add_argument("--workers", type=int, choices=[1, 2], default=2)
    parser.add_argument("--only", nargs="*", default=[], help="instance names from the suite (default all)")
    parser.add_argument("--json", metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--old", action="store_true", help="also run the solver without its dense path (third side)")
    args = parser.parse_args(argv)
    rows = compare(args.limits, args.workers, args.only, args.old)
    head = "| instance | limit s | solver cov / score | solver gap % | solver wall s | reference cov / score "
    head += "| reference gap % | reference wall s |"
    if args.old:
        head += " old cov / score | old gap % | old wall s |"
    print(head + " solver early | solver ≥ " + ("both |" if args.old else "reference |"))
    print("|---" * (12 if args.old else 9) + "|---|")
    for row in rows:
        print(_line(row))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
