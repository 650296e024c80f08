"""A throw-away PostgreSQL server for the test run, started from Debian's binaries.

PostgreSQL refuses to run as root, and CI runs as root: the server then runs as the
``postgres`` user (runuser) in a temporary directory that user owns, on a loopback port.
Set TEST_POSTGRES_URL to use a server you already have instead.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    pass


@dataclass
class PostgresServer:
    url: str  # a SQLAlchemy URL to the maintenance database "postgres"
    datadir: Path | None = None
    bindir: Path | None = None
    as_user: str | None = None

    def stop(self) -> None:
        if self.datadir is None:
            return
        _run(self, [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"], check=False)
        shutil.rmtree(self.datadir.parent, ignore_errors=True)


def _bindir() -> Path:
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda p: int(p.split("/")[4]))
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    raise PostgresUnavailable("pg_ctl not found: install Debian's postgresql package (make install does)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(server: PostgresServer, argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    if server.as_user:
        argv = ["runuser", "-u", server.as_user, "--", *argv]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise PostgresUnavailable(f"{' '.join(argv)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def start_postgres() -> PostgresServer:
    if os.environ.get("TEST_POSTGRES_URL"):
        return PostgresServer(url=os.environ["TEST_POSTGRES_URL"])
    bindir = _bindir()
    root = Path(tempfile.mkdtemp(prefix="sng-pg-"))
    datadir = root / "data"
    as_user = None
    if os.geteuid() == 0:
        as_user = "postgres"
        entry = pwd.getpwnam(as_user)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    server = PostgresServer(url="", datadir=datadir, bindir=bindir, as_user=as_user)
    _run(
        server,
        [
            str(bindir / "initdb"),
            "-D",
            str(datadir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--no-sync",
            "--locale=C",
        ],
    )
    port = _free_port()
    # Durability is pointless for a throw-away test server; turning it off makes the run faster.
    options = (
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
        f"-c full_page_writes=off -c max_connections=200"
    )
    _run(
        server,
        [
            str(bindir / "pg_ctl"),
            "-D",
            str(datadir),
            "-o",
            options,
            "-l",
            str(root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        ],
    )
    server.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    return server
