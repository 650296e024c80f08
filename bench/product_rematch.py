"""Re-matching one request after a decline, in the product: the time a volunteer's *Decline* waits.

    DATABASE_URL=sqlite:///demo.sqlite3 FLASK_ENV=development python -m bench.product_rematch [--requests 40]

On a database loaded with ``flask demo load``: for each request still to come with a place free,
``matching.runs.services.rematch`` (queue a one-request run, read the request and the volunteers within
reach, the funnel, the solver, save the offers) is timed from the call to its return. Prints the
median and the slowest. It changes the database (the offers it makes are real): use a copy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time

from sqlalchemy import select


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=40, help="how many requests to re-match at most")
    args = parser.parse_args(argv)
    from core.db import session_factory
    from matching.models import RequestStatus, SupportRequest
    from matching.runs.services import RunSettings, rematch
    from wsgi import app

    make_session = session_factory(app)
    with app.app_context():
        with make_session() as session:
            soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
            ids = list(
                session.scalars(
                    select(SupportRequest.id)
                    .where(
                        SupportRequest.status.in_(
                            [RequestStatus.OPEN, RequestStatus.MATCHED, RequestStatus.PART_FILLED]
                        ),
                        SupportRequest.window_start > soon,
                    )
                    .order_by(SupportRequest.id)
                    .limit(args.requests)
                )
            )
        timings = []
        for request_id in ids:
            started = time.perf_counter()
            run = rematch(make_session, request_id, RunSettings(), "decline")
            if run is not None and run.requests_count:  # a request with a place free
                timings.append(1000 * (time.perf_counter() - started))
    if not timings:
        raise SystemExit("no request with a free place to re-match: load the demo first")
    print(f"{len(timings)} re-matches: median {statistics.median(timings):.0f} ms, slowest {max(timings):.0f} ms")


if __name__ == "__main__":
    main()
