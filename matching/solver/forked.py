"""Work done in a forked process beside the caller, or in place when that cannot be. Pure module.

A matching run is one Python process on a 2-core host: pure-Python work holds the GIL, so threads
cannot use the second core for it, but a forked child can. It shares the parent's memory
copy-on-write, so nothing has to be copied to it first. Used for the flow bound of a huge component
(matching/partition.py) and for half of a London week's funnels (matching/funnel.py).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Generic, TypeVar

T = TypeVar("T")
_NOTHING = object()


class Beside(Generic[T]):
    """``work()``, being computed in a forked process; ``result`` gives it, or computes it here where no
    process could be forked, or the child failed or took longer than ``timeout`` seconds. ``work`` must
    be a pure function of what it holds: then the answer is the same either way."""

    def __init__(self, work: Callable[[], T], *, timeout: float, nice: int = 0) -> None:
        self.work, self.timeout = work, timeout
        self.process: multiprocessing.process.BaseProcess | None = None
        self.receive: Connection | None = None
        if "fork" not in multiprocessing.get_all_start_methods():
            return
        context = multiprocessing.get_context("fork")
        receive, send = context.Pipe(duplex=False)
        process = context.Process(target=_send, args=(work, send, nice), daemon=True)
        try:
            process.start()
        except OSError:
            receive.close()
            return
        finally:
            send.close()
        self.process, self.receive = process, receive

    def result(self, timeout: float | None = None) -> T:
        found = _NOTHING
        if self.process is not None and self.receive is not None:
            try:
                # A child forked from a threaded process (the Huey worker) can, rarely, inherit a lock held
                # by another thread and hang: never wait on it for ever.
                if self.receive.poll(self.timeout if timeout is None else timeout):
                    found = self.receive.recv()
            except (EOFError, OSError):
                found = _NOTHING  # the child failed: computed here instead
            finally:
                self.receive.close()
                if found is _NOTHING:
                    self.process.terminate()
                self.process.join()
                self.receive = None
        return self.work() if found is _NOTHING else found

    def cancel(self) -> None:
        if self.process is not None and self.receive is not None:
            self.process.terminate()
            self.process.join()
            self.receive.close()
            self.receive = None


def _send(work: Callable[[], object], send: Connection, nice: int) -> None:
    try:
        if nice:
            os.nice(nice)
        send.send(work())
    finally:
        send.close()
