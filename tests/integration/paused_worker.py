"""`flask match worker` for test_worker_killed, paused inside a run's save.

The same worker process, except that a run, once its save has written the offers, the findings and the
requests' new statuses (flushed, not committed), writes what its transaction then holds to the file
PAUSED_IN_SAVE_FILE names and waits there, so the test can kill -9 it at exactly that moment. Nothing in
the app knows of this: it is patched in here, in the test's own worker process, and never in production.

Run as ``python -m tests.integration.paused_worker`` with the worker's environment.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def main() -> None:
    from flask.cli import main as flask_main
    from sqlalchemy import func, select

    import matching.runs.services as services
    from matching.models import Offer, RunRequest

    signal = Path(os.environ["PAUSED_IN_SAVE_FILE"])
    refresh_status = services.refresh_status  # the save's last write before it commits

    def refresh_then_wait(session, request_ids):
        refresh_status(session, request_ids)
        session.flush()
        held = {
            "offers": session.scalar(select(func.count(Offer.id))),
            "findings": session.scalar(select(func.count()).select_from(RunRequest)),
        }
        signal.write_text(json.dumps(held), encoding="utf-8")
        time.sleep(300)  # killed long before this ends

    services.refresh_status = refresh_then_wait
    sys.argv = ["flask", "match", "worker"]
    flask_main()


if __name__ == "__main__":
    main()
