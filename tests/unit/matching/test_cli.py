"""`python -m matching.solver`: JSON out on success; `error: ...` and exit 2 on bad input, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.matching import instance_json

REPO = Path(__file__).resolve().parents[3]


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(
        [sys.executable, "-m", "matching.solver", *args],
        cwd=REPO,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_a_good_file_prints_the_plan(tmp_path: Path) -> None:
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(instance_json()))
    done = run_cli(str(path), "--time-limit", "5")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)
    assert set(plan) == {"assignments", "coverage", "score", "bound", "optimal", "seconds", "stats"}
    # v2 cannot take r2 (no pair); v1 takes r2 (needs 2, gets 1) and v2 takes r1: the clash stops v1 doing both.
    assert plan["assignments"] == [{"volunteer": "v2", "request": "r1"}, {"volunteer": "v1", "request": "r2"}]
    assert (plan["coverage"], plan["score"], plan["optimal"]) == (3, 0.65, True)
    assert plan["bound"] == {"coverage": 3, "score": 0.65}
    assert plan["stats"]["time_limit"] == 5


def test_reads_standard_input() -> None:
    done = run_cli("-", stdin=json.dumps(instance_json()))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["coverage"] == 3


def _bad(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "bad.json"
    path.write_text(text)
    return run_cli(str(path))


def _unknown_id() -> str:
    data = instance_json()
    data["pairs"][0]["volunteer"] = "v404"
    return json.dumps(data)


def _negative_capacity() -> str:
    data = instance_json()
    data["volunteers"][1]["capacity"] = -3
    return json.dumps(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"volunteers": [', "is not valid JSON"),
        (_unknown_id(), "unknown volunteer 'v404'"),
        (_negative_capacity(), "volunteer 'v2': capacity must be between 0"),
        ("[]", "instance must be an object"),
        ("[" * 100_000, "nested too deeply"),
    ],
)
def test_bad_input_exits_2_with_a_message(tmp_path: Path, text: str, message: str) -> None:
    done = _bad(tmp_path, text)
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and message in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_missing_file_exits_2(tmp_path: Path) -> None:
    done = run_cli(str(tmp_path / "nowhere.json"))
    assert (done.returncode, "Traceback" in done.stderr) == (2, False)
    assert "error: no such file" in done.stderr


@pytest.mark.parametrize("limit", ["0", "-1", "soon", "nan"])
def test_bad_time_limit_exits_2(tmp_path: Path, limit: str) -> None:
    path = tmp_path / "instance.json"
    path.write_text(json.dumps(instance_json()))
    done = run_cli(str(path), "--time-limit", limit)
    assert (done.returncode, "Traceback" in done.stderr) == (2, False)
    assert "error:" in done.stderr and "positive number of seconds" in done.stderr


def test_in_process_main_reports_the_same_way(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """main() is importable (for the app's CLI) and exits 2 the same way on bad input."""
    from matching.solver.__main__ import main

    path = tmp_path / "instance.json"
    path.write_text(json.dumps(instance_json(requests=[{"id": "r1", "needed": 0, "priority": 1}])))
    with pytest.raises(SystemExit) as exited:
        main([str(path)])
    assert exited.value.code == 2
    assert capsys.readouterr().err == "error: request 'r1': needed must be between 1 and 1000000, got 0\n"
