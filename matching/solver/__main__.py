"""Command line: solve an instance file and print the plan as JSON.

    python -m matching.solver INSTANCE.json [--time-limit SECONDS] [--workers 1|2]
    python -m matching.solver - < INSTANCE.json

--time-limit is a budget used until optimality is proven on dense components (docs/matching.md).

Bad input (missing file, malformed JSON, an instance that fails validation) prints
`error: <message>` on stderr and exits with status 2; never a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import NoReturn

from matching.solver.instance import InstanceError, parse_instance
from matching.solver.plan import DEFAULT_TIME_LIMIT, plan_to_json, solve

EXIT_BAD_INPUT = 2


def _fail(message: str) -> NoReturn:
    print(f"error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_BAD_INPUT)


def _seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text!r}")
    return seconds


def _read(source: str) -> str:
    if source == "-":
        return sys.stdin.read()
    try:
        return Path(source).read_text(encoding="utf-8")
    except FileNotFoundError:
        _fail(f"no such file: {source}")
    except IsADirectoryError:
        _fail(f"{source} is a directory, not an instance file")
    except UnicodeDecodeError:
        _fail(f"{source} is not UTF-8 text")
    except OSError as error:
        _fail(f"cannot read {source}: {error.strerror or error}")


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 on success, 2 on bad input)."""
    parser = argparse.ArgumentParser(
        prog="python -m matching.solver",
        description="Solve a matching instance (see docs/matching.md) and print the plan as JSON.",
    )
    parser.add_argument("instance", help="instance JSON file, or - to read standard input")
    parser.add_argument(
        "--time-limit",
        type=_seconds,
        default=DEFAULT_TIME_LIMIT,
        metavar="SECONDS",
        help=(
            f"CP-SAT time budget in seconds (default {DEFAULT_TIME_LIMIT:g}): a dense component not proven "
            "optimal searches until it is spent and stops sooner only with a proof; other components stop at "
            "their reproducible share of it (docs/matching.md, 'Time limits and determinism')"
        ),
    )
    parser.add_argument(
        "--path",
        choices=["auto", "flow", "cpsat"],
        default="auto",
        help="force one solver path for every component (for testing; default auto)",
    )
    parser.add_argument("--workers", type=int, choices=[1, 2], default=2, help="CP-SAT threads (default 2)")
    args = parser.parse_args(argv)

    source_name = "standard input" if args.instance == "-" else args.instance
    text = _read(args.instance)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        _fail(f"{source_name} is not valid JSON: {error.msg} at line {error.lineno} column {error.colno}")
    except RecursionError:
        _fail(f"{source_name} is nested too deeply to be an instance")
    try:
        instance = parse_instance(data)
    except InstanceError as error:
        _fail(error.message)
    try:
        plan = solve(instance, args.time_limit, path=args.path, workers=args.workers)
    except ValueError as error:  # --path flow on a component flow cannot represent
        _fail(str(error))
    json.dump(plan_to_json(plan), sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
