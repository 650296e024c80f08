"""The matching benchmark: build eligibility for a London-like week, solve, compare with the sign-up sheet.

    python -m bench.matching --volunteers N --requests M [--seed S] [--repeat K] [--time-limit T]
                             [--write-instance FILE] [--replan] [--rematch]

Prints one row per run: pairs, time to build (eligibility, shortlist, clashes, the solver's Instance),
time to solve, peak memory, places filled, coverage by priority, coverage and score with the proven
bounds and gaps, and the same figures for the greedy baseline (bench/greedy.py) with the ratios
solver/greedy. `--repeat K` runs K times, each in a fresh process (so each peak memory is clean),
and adds a row of medians. `--replan` re-plans the week after 5% of volunteers drop out (with and
without a stability bonus on the previous plan's pairs); `--rematch` re-matches single requests
after declines. Not part of the test run (tests/unit/test_bench_smoke.py runs a small one).
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.eligibility import (
    Candidates,
    VettingTable,
    build_candidates,
    find_clashes,
    shortlist,
    to_instance,
)
from bench.generator import PRIORITY_NAMES, URGENT, Week, generate_week
from bench.greedy import greedy_plan, warm_start
from matching.solver.instance import Instance, instance_to_dict
from matching.solver.plan import Plan, solve

DEFAULT_TIME_LIMIT = 20.0
DROPOUT_SHARE = 0.05
STABILITY_BONUS = 1000  # thousandths: a pair of the previous plan scores 1 point more (max pair score is 2)
REMATCHES = 20


@dataclass(frozen=True)
class Built:
    """Everything the solver is given, and the full candidate list the greedy baseline uses."""

    candidates: Candidates  # every eligible pair
    solver_pairs: np.ndarray  # indices into candidates: shortlist ∪ the two quick plans
    clashes: np.ndarray
    instance: Instance
    signup: np.ndarray  # the sign-up sheet's plan (indices into candidates): the baseline
    hint: list[tuple[str, str]]  # the better of the sign-up sheet and the warm start
    seconds: float


def build(
    week: Week,
    *,
    dropped: np.ndarray | None = None,
    bonus: Callable[[Candidates], np.ndarray] | None = None,
    previous: np.ndarray | None = None,
) -> Built:
    """Eligibility from the week's data → quick plans → shortlist → clashes → Instance, timed together.

    The solver is given each request's shortlist plus every pair of the sign-up sheet's plan and of
    the warm start, and the better of those two plans as its hint: it can only improve on them.
    `dropped` (bool per volunteer) leaves volunteers out; `bonus` gives extra score per candidate
    (the stability bonus of a re-plan); `previous` (candidate keys) is a plan to keep in the pairs.
    """
    started = time.perf_counter()
    present = None if dropped is None else ~dropped
    candidates = build_candidates(week, volunteers=present)
    signup = greedy_plan(week, candidates)
    warm = warm_start(week, candidates)
    score = candidates.score if bonus is None else candidates.score + bonus(candidates)
    starts = [warm, signup]
    keep = [shortlist(candidates, week.needed), signup, warm]
    if previous is not None:
        kept = np.flatnonzero(np.isin(pair_keys(week, candidates.volunteer, candidates.request), previous))
        keep.append(kept)
        if bonus is not None:  # a calm re-plan starts from what is left of the previous plan
            starts.append(warm_start(week, candidates, keep=_whole_teams(week, candidates, kept), score=score))
    hint = max(starts, key=lambda plan: _value(week, candidates, plan, score))
    solver_pairs = np.unique(np.concatenate([*keep, hint]))
    chosen = candidates.subset(solver_pairs)
    clashes = find_clashes(week, chosen)
    instance = to_instance(week, chosen, clashes, score=score[solver_pairs])
    hint_ids = [
        (week.volunteer_ids[v], week.request_ids[r])
        for v, r in zip(candidates.volunteer[hint].tolist(), candidates.request[hint].tolist(), strict=True)
    ]
    return Built(candidates, solver_pairs, clashes, instance, signup, hint_ids, time.perf_counter() - started)


def _whole_teams(week: Week, candidates: Candidates, plan: np.ndarray) -> np.ndarray:
    """The plan without all-or-nothing teams that have lost a member (still a valid plan)."""
    count = np.bincount(candidates.request[plan], minlength=week.num_requests)
    broken = week.all_or_nothing & (count < week.needed)
    return plan[~broken[candidates.request[plan]]]


def _value(week: Week, candidates: Candidates, plan: np.ndarray, score: np.ndarray) -> tuple[int, int]:
    return int(week.weights()[candidates.request[plan]].sum()), int(score[plan].sum())


def pair_keys(week: Week, volunteer: np.ndarray, request: np.ndarray) -> np.ndarray:
    return volunteer.astype(np.int64) * week.num_requests + request.astype(np.int64)


def plan_pairs(week: Week, candidates: Candidates, plan: Plan) -> np.ndarray:
    """The plan's assignments as sorted indices into `candidates`."""
    if not plan.assignments:
        return np.zeros(0, dtype=np.int64)
    vindex = {vid: i for i, vid in enumerate(week.volunteer_ids)}
    rindex = {rid: i for i, rid in enumerate(week.request_ids)}
    v = np.array([vindex[a.volunteer] for a in plan.assignments])
    r = np.array([rindex[a.request] for a in plan.assignments])
    keys = pair_keys(week, candidates.volunteer, candidates.request)
    order = np.argsort(keys)
    wanted = pair_keys(week, v, r)
    at = order[np.minimum(np.searchsorted(keys[order], wanted), len(keys) - 1)]
    if not np.array_equal(keys[at], wanted):
        raise AssertionError("the plan assigns a pair that is not a candidate")
    return np.sort(at)


def broken_rules(week: Week, candidates: Candidates, chosen: np.ndarray) -> list[str]:
    """Every hard rule a plan (indices into candidates: eligible pairs only) breaks; [] when valid."""
    problems = []
    if len(np.unique(chosen)) != len(chosen):
        problems.append("a pair is chosen twice")
    v, r, load = candidates.volunteer[chosen], candidates.request[chosen], candidates.load[chosen]
    count = np.bincount(r, minlength=week.num_requests)
    for bad in np.flatnonzero(count > week.needed)[:5]:
        problems.append(f"{week.request_ids[bad]} has {count[bad]} people but needs {week.needed[bad]}")
    partial = week.all_or_nothing & (count > 0) & (count < week.needed)
    for bad in np.flatnonzero(partial)[:5]:
        problems.append(f"{week.request_ids[bad]} is all-or-nothing but has {count[bad]} of {week.needed[bad]}")
    used = np.bincount(v, weights=load, minlength=week.num_volunteers)
    for bad in np.flatnonzero(used > week.cap_minutes)[:5]:
        problems.append(f"{week.volunteer_ids[bad]} works {used[bad]:.0f} minutes, over their {week.cap_minutes[bad]}")
    order = np.lexsort((week.start[r], v))
    sv, ss, se = v[order], week.start[r][order], week.end[r][order]
    # Sorted by start, a volunteer has two overlapping windows only if two consecutive ones overlap.
    overlap = (sv[1:] == sv[:-1]) & (ss[1:] < se[:-1])
    for bad in np.flatnonzero(overlap)[:5]:
        problems.append(f"{week.volunteer_ids[sv[bad + 1]]} is booked twice at once")
    return problems


def plan_figures(week: Week, candidates: Candidates, chosen: np.ndarray) -> dict[str, Any]:
    """Places filled, coverage (weighted) and by priority, score (quality) of a plan."""
    r = candidates.request[chosen]
    weights = week.weights()
    figures: dict[str, Any] = {
        "filled": len(chosen),
        "places": int(week.needed.sum()),
        "coverage": int(weights[r].sum()),
        "score": int(candidates.score[chosen].sum()) / 1000,
    }
    filled_by_level = np.bincount(week.level[r], minlength=URGENT + 1)
    asked_by_level = np.bincount(week.level, weights=week.needed, minlength=URGENT + 1)
    for level, name in PRIORITY_NAMES.items():
        asked = asked_by_level[level]
        figures[f"{name}_pct"] = round(100 * filled_by_level[level] / asked, 2) if asked else 100.0
    return figures


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def _gap(found: float, bound: float) -> float:
    return 0.0 if bound <= 0 else round(100 * (bound - found) / bound, 3)


def run(args: argparse.Namespace) -> dict[str, Any]:
    """One run: generate, build, solve, greedy (+ replan and rematch when asked). Returns the figures."""
    week = generate_week(args.volunteers, args.requests, seed=args.seed)
    built = build(week)
    if args.write_instance:
        Path(args.write_instance).write_text(json.dumps(instance_to_dict(built.instance)), encoding="utf-8")
    plan = solve(built.instance, time_limit=args.time_limit, workers=args.workers, hint=built.hint)
    chosen = plan_pairs(week, built.candidates, plan)
    baseline = built.signup
    for name, picked in (("solver", chosen), ("greedy", baseline)):
        problems = broken_rules(week, built.candidates, picked)
        if problems:
            raise AssertionError(f"the {name} plan breaks hard rules: {problems}")
    mine, theirs = plan_figures(week, built.candidates, chosen), plan_figures(week, built.candidates, baseline)
    row: dict[str, Any] = {
        "volunteers": args.volunteers,
        "requests": args.requests,
        "seed": args.seed,
        "eligible_pairs": len(built.candidates),
        "solver_pairs": len(built.solver_pairs),
        "clashes": len(built.clashes),
        "build_s": round(built.seconds, 3),
        "solve_s": round(plan.seconds, 3),
        "total_s": round(built.seconds + plan.seconds, 3),
        **mine,
        "coverage_bound": plan.bound_coverage,
        "coverage_gap_pct": _gap(plan.coverage, plan.bound_coverage),
        "score_bound": plan.bound_score,
        "score_gap_pct": _gap(plan.score, plan.bound_score),
        "optimal": plan.optimal,
        **{f"greedy_{key}": value for key, value in theirs.items() if key != "places"},
        "coverage_ratio": round(mine["coverage"] / theirs["coverage"], 4) if theirs["coverage"] else math.inf,
        "quality_ratio": round(mine["score"] / theirs["score"], 4) if theirs["score"] else math.inf,
        "stats": plan.stats,
    }
    if args.replan:
        row.update(replan(week, built, chosen, args))
    if args.rematch:
        row.update(rematch(week, built, chosen, args))
    row["peak_mib"] = round(_peak_mib(), 1)
    return row


def replan(week: Week, built: Built, chosen: np.ndarray, args: argparse.Namespace) -> dict[str, Any]:
    """5% of volunteers drop out; re-plan with and without the stability bonus; count what changed."""
    rng = np.random.default_rng([args.seed, 5])
    dropped = np.zeros(week.num_volunteers, dtype=bool)
    dropped[rng.choice(week.num_volunteers, round(DROPOUT_SHARE * week.num_volunteers), replace=False)] = True
    before = pair_keys(week, built.candidates.volunteer[chosen], built.candidates.request[chosen])
    lost = int(dropped[built.candidates.volunteer[chosen]].sum())
    figures: dict[str, Any] = {"replan_lost": lost}
    for name, bonus in (("calm", True), ("fresh", False)):
        started = time.perf_counter()

        def stability(candidates: Candidates) -> np.ndarray:
            kept = np.isin(pair_keys(week, candidates.volunteer, candidates.request), before)
            return STABILITY_BONUS * kept.astype(np.int32)

        again = build(week, dropped=dropped, bonus=stability if bonus else None, previous=before)
        plan = solve(again.instance, time_limit=args.time_limit, workers=args.workers, hint=again.hint)
        seconds = time.perf_counter() - started
        picked = plan_pairs(week, again.candidates, plan)
        problems = broken_rules(week, again.candidates, picked)
        if problems:
            raise AssertionError(f"the re-plan breaks hard rules: {problems}")
        after = pair_keys(week, again.candidates.volunteer[picked], again.candidates.request[picked])
        kept = int(np.isin(after, before).sum())
        result = plan_figures(week, again.candidates, picked)
        figures |= {
            f"replan_{name}_s": round(seconds, 3),
            # Of the previous proposals whose volunteer is still there: how many were moved or dropped;
            # and how many proposals are new (most refill the places the drop-outs left).
            f"replan_{name}_moved": len(before) - lost - kept,
            f"replan_{name}_added": len(after) - kept,
            f"replan_{name}_coverage": result["coverage"],
            f"replan_{name}_score": result["score"],  # without the bonus
        }
    return figures


def rematch(week: Week, built: Built, chosen: np.ndarray, args: argparse.Namespace) -> dict[str, Any]:
    """Volunteers decline REMATCHES offers, one after another. Each time the one request is re-matched
    from the data (its eligibility built afresh, as the service would) without moving anyone else's
    offers: the place goes to the best eligible volunteer with the hours left and no overlapping offer."""
    rng = np.random.default_rng([args.seed, 7])
    candidates = built.candidates
    offers = _Offers(week)
    for p in chosen.tolist():
        offers.add(int(candidates.volunteer[p]), int(candidates.request[p]), int(candidates.load[p]))
    declines = rng.choice(len(chosen), min(REMATCHES, len(chosen)), replace=False)
    times, refilled = [], 0
    for index in declines.tolist():
        v, r = int(candidates.volunteer[chosen[index]]), int(candidates.request[chosen[index]])
        if r not in offers.by_volunteer.get(v, {}):
            continue  # this offer went with an earlier incomplete team
        started = time.perf_counter()
        offers.remove(v, r)
        found = rematch_one(week, offers, declined=v, request=r, time_limit=args.time_limit)
        times.append(time.perf_counter() - started)
        if found is not None:
            offers.add(*found)
            refilled += 1
        elif week.all_or_nothing[r]:
            for other in [o for o, asks in offers.by_volunteer.items() if r in asks]:
                offers.remove(other, r)  # an incomplete team is no team: release the others
    return {
        "rematch_count": len(times),
        "rematch_median_ms": round(1000 * statistics.median(times), 1) if times else 0.0,
        "rematch_max_ms": round(1000 * max(times), 1) if times else 0.0,
        "rematch_refilled": refilled,
    }


class _Offers:
    """The offers standing at the moment: per volunteer, request → load (minutes)."""

    def __init__(self, week: Week) -> None:
        self.week = week
        self.by_volunteer: dict[int, dict[int, int]] = {}
        self.used = np.zeros(week.num_volunteers, dtype=np.int64)

    def add(self, v: int, r: int, load: int) -> None:
        self.by_volunteer.setdefault(v, {})[r] = load
        self.used[v] += load

    def remove(self, v: int, r: int) -> None:
        self.used[v] -= self.by_volunteer[v].pop(r)

    def clashes(self, v: int, r: int) -> bool:
        start, end = self.week.start, self.week.end
        return any(start[o] < end[r] and start[r] < end[o] for o in self.by_volunteer.get(v, {}))


def rematch_one(
    week: Week, offers: _Offers, *, declined: int, request: int, time_limit: float = DEFAULT_TIME_LIMIT
) -> tuple[int, int, int] | None:
    """(volunteer, request, load) of the best free eligible volunteer for one open place, or None."""
    table = VettingTable(week)
    candidates = build_candidates(week, requests=np.array([request]), table=table)
    room = week.cap_minutes.astype(np.int64) - offers.used
    keep = [
        p
        for p, (v, load) in enumerate(zip(candidates.volunteer.tolist(), candidates.load.tolist(), strict=True))
        if v != declined
        and request not in offers.by_volunteer.get(v, {})
        and load <= room[v]
        and not offers.clashes(v, request)
    ]
    if not keep:
        return None
    options = candidates.subset(np.array(keep))
    needed = week.needed.copy()
    needed[request] = 1
    instance = to_instance(
        week,
        options,
        np.zeros((0, 2), dtype=np.int64),
        volunteers=np.unique(options.volunteer),
        requests=np.array([request]),
        capacity=np.maximum(room, 0),
        needed=needed,
    )
    plan = solve(instance, time_limit=time_limit)
    if not plan.assignments:
        return None
    chosen = plan_pairs(week, options, plan)[0]
    return int(options.volunteer[chosen]), request, int(options.load[chosen])


# ---------------------------------------------------------------------------------------------
# Printing
# ---------------------------------------------------------------------------------------------

# (header, key, format): one printed row per run.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("run", "run", "{}"),
    ("size", "size", "{}"),
    ("seed", "seed", "{}"),
    ("eligible", "eligible_pairs", "{:,}"),
    ("solver", "solver_pairs", "{:,}"),
    ("build_s", "build_s", "{:.2f}"),
    ("solve_s", "solve_s", "{:.2f}"),
    ("total_s", "total_s", "{:.2f}"),
    ("peak_MiB", "peak_mib", "{:,.0f}"),
    ("filled", "filled_of", "{}"),
    ("urg%", "urgent_pct", "{:.1f}"),
    ("pri%", "priority_pct", "{:.1f}"),
    ("rou%", "routine_pct", "{:.1f}"),
    ("coverage", "coverage", "{:,}"),
    ("cov_bound", "coverage_bound", "{:,}"),
    ("cov_gap%", "coverage_gap_pct", "{:.2f}"),
    ("score", "score", "{:,.1f}"),
    ("score_bound", "score_bound", "{:,.1f}"),
    ("score_gap%", "score_gap_pct", "{:.2f}"),
    ("g_filled", "greedy_filled", "{:,}"),
    ("g_urg%", "greedy_urgent_pct", "{:.1f}"),
    ("g_pri%", "greedy_priority_pct", "{:.1f}"),
    ("g_rou%", "greedy_routine_pct", "{:.1f}"),
    ("g_coverage", "greedy_coverage", "{:,}"),
    ("g_score", "greedy_score", "{:,.1f}"),
    ("cov_x", "coverage_ratio", "{:.4f}"),
    ("quality_x", "quality_ratio", "{:.4f}"),
)
REPLAN_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("lost", "replan_lost", "{:,}"),
    ("calm_moved", "replan_calm_moved", "{:,}"),
    ("calm_added", "replan_calm_added", "{:,}"),
    ("calm_cov", "replan_calm_coverage", "{:,}"),
    ("calm_score", "replan_calm_score", "{:,.1f}"),
    ("calm_s", "replan_calm_s", "{:.2f}"),
    ("fresh_moved", "replan_fresh_moved", "{:,}"),
    ("fresh_added", "replan_fresh_added", "{:,}"),
    ("fresh_cov", "replan_fresh_coverage", "{:,}"),
    ("fresh_score", "replan_fresh_score", "{:,.1f}"),
)
REMATCH_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("rematch_ms_med", "rematch_median_ms", "{:.1f}"),
    ("rematch_ms_max", "rematch_max_ms", "{:.1f}"),
    ("refilled", "refilled_of", "{}"),
)


def _columns(args: argparse.Namespace) -> tuple[tuple[str, str, str], ...]:
    return COLUMNS + (REPLAN_COLUMNS if args.replan else ()) + (REMATCH_COLUMNS if args.rematch else ())


def _cells(row: dict[str, Any], columns: tuple[tuple[str, str, str], ...]) -> list[str]:
    row = dict(row)
    row["size"] = f"{row['volunteers']}x{row['requests']}"
    row["filled_of"] = f"{row['filled']:,}/{row['places']:,}"
    if "rematch_count" in row:
        row["refilled_of"] = f"{row['rematch_refilled']}/{row['rematch_count']}"
    cells = []
    for _, key, form in columns:
        value = row.get(key, "")
        cells.append(form.format(value) if value != "" and not isinstance(value, str) else str(value))
    return cells


def print_rows(rows: list[dict[str, Any]], columns: tuple[tuple[str, str, str], ...]) -> None:
    table = [[header for header, _, _ in columns]] + [_cells(row, columns) for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    for line in table:
        print("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)), flush=True)


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Medians of every numeric figure over the runs (the run label says so)."""
    result: dict[str, Any] = {"run": "median"}
    for key, value in rows[0].items():
        if key == "run":
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            result[key] = value
            continue
        middle = statistics.median(row[key] for row in rows)
        result[key] = type(value)(middle) if isinstance(value, int) and middle == int(middle) else middle
    return result


def _child_command(args: argparse.Namespace) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "bench.matching",
        "--volunteers",
        str(args.volunteers),
        "--requests",
        str(args.requests),
        "--seed",
        str(args.seed),
        "--time-limit",
        str(args.time_limit),
        "--workers",
        str(args.workers),
        "--repeat",
        "1",
        "--json",
    ]
    command += ["--replan"] if args.replan else []
    command += ["--rematch"] if args.rematch else []
    return command


def _positive(kind: type) -> Any:
    def parse(text: str) -> Any:
        value = kind(text)
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
        return value

    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.matching", description=__doc__.split("\n\n")[0])
    p.add_argument("--volunteers", type=_positive(int), required=True)
    p.add_argument("--requests", type=_positive(int), required=True)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--repeat", type=_positive(int), default=1, help="runs, each in a fresh process (default 1)")
    p.add_argument(
        "--time-limit",
        type=_positive(float),
        default=DEFAULT_TIME_LIMIT,
        help=f"the solver's time limit in seconds (default {DEFAULT_TIME_LIMIT:g})",
    )
    p.add_argument("--workers", type=int, choices=[1, 2], default=2, help="CP-SAT threads (default 2)")
    p.add_argument("--write-instance", metavar="FILE", help="also write the solver's instance as JSON")
    p.add_argument("--replan", action="store_true", help="re-plan after 5%% of volunteers drop out")
    p.add_argument("--rematch", action="store_true", help=f"re-match {REMATCHES} declined offers one by one")
    p.add_argument("--json", action="store_true", help="print each run's figures as one JSON line")
    p.add_argument("--profile", metavar="FILE", help="profile one run with pyinstrument, write HTML to FILE")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    columns = _columns(args)
    if args.repeat == 1:
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
            row = run(args)
            profiler.stop()
            Path(args.profile).write_text(profiler.output_html(), encoding="utf-8")
            print(profiler.output_text(unicode=False, color=False, show_all=False), file=sys.stderr)
        else:
            row = run(args)
        row["run"] = 1
        if args.json:
            print(json.dumps(row))
        else:
            print_rows([row], columns)
        return 0
    if args.write_instance or args.profile:
        raise SystemExit("error: --write-instance and --profile need --repeat 1")
    rows = []
    for number in range(1, args.repeat + 1):
        done = subprocess.run(_child_command(args), capture_output=True, text=True, check=False)
        if done.returncode != 0:
            sys.stderr.write(done.stderr)
            return done.returncode
        row = json.loads(done.stdout.strip().splitlines()[-1])
        row["run"] = number
        rows.append(row)
        print(f"run {number}: " + "  ".join(_cells(row, columns)), file=sys.stderr, flush=True)  # progress
    print_rows(rows + [median_row(rows)], columns)
    if args.json:
        print(json.dumps(median_row(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
