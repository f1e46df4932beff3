"""The background sender of an app process: sends queued messages soon after they are queued.

    start(svc)   once per process and database (the app calls it when it builds its services);
                 does nothing while notifications are off
    wake()       after a commit that queued messages: send now rather than at the next round
    stop_all()   end every sender of this process (tests)

A daemon thread per database: it waits for `wake()` or `INTERVAL_S`, then calls
`Services.deliver_notifications()`, which claims messages so that several app processes (and
the cron job) never send one twice. Any error is logged and the thread carries on: sending never
blocks nor breaks the app.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)

#: Seconds between rounds when nothing wakes the sender (retries come due in between).
INTERVAL_S = 60.0

_lock = threading.Lock()
_workers: dict[str, _Worker] = {}


class _Worker(threading.Thread):
    def __init__(self, svc: Any, key: str) -> None:
        super().__init__(name=f"procurement-notify-{len(_workers) + 1}", daemon=True)
        self.svc = svc
        self.key = key
        self.wakeup = threading.Event()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self.svc.deliver_notifications()
            except Exception:
                log.exception("sending notifications failed; retrying in %.0f s", INTERVAL_S)
            self.wakeup.wait(INTERVAL_S)
            self.wakeup.clear()


def start(svc: Any) -> bool:
    """Start this process's sender for `svc`'s database unless it runs already or
    notifications are off; returns whether a sender is running."""
    from procurement.notify.service import current_settings

    settings, problem = current_settings()
    if settings is None:
        if problem:
            log.warning("notifications are off: %s", problem)
        return False
    key = svc.engine.url.render_as_string(hide_password=True)
    with _lock:
        worker = _workers.get(key)
        if worker is not None and worker.is_alive():
            return True
        worker = _Worker(svc, key)
        _workers[key] = worker
        worker.start()
    return True


def wake() -> None:
    """Have every sender of this process look for due messages now."""
    with _lock:
        for worker in _workers.values():
            worker.wakeup.set()


def running() -> int:
    """How many senders run in this process."""
    with _lock:
        return sum(1 for w in _workers.values() if w.is_alive())


def stop_all(timeout: float = 10.0) -> None:
    """Stop every sender of this process and wait for each to finish its round."""
    with _lock:
        workers = list(_workers.values())
        _workers.clear()
    for worker in workers:
        worker.stopping.set()
        worker.wakeup.set()
    for worker in workers:
        worker.join(timeout)
