"""Read the pads' drawings with a few worker threads, newest first: a whole class drawing at once.

    pool = ReadingPool(read, superseded)                   # read(drawing) -> answer, on WORKERS threads
    answer = pool.submit(session, drawing, live).result()  # or: await asyncio.wrap_future(...)

Without it every request reads on a thread of its own: with 60 pupils, dozens of threads fight for
the interpreter lock and each reading costs three times its CPU. Here WORKERS threads read, one
drawing at a time each; a drawing that waits is answered `superseded(drawing)`, unread, the moment a
newer one from the same pad arrives (the pad would drop its answer anyway). Finished strokes are
read before live ones (sent while a stroke is drawn): a pupil who lifts the pen waits for the answer,
and a live answer late by a moment is not missed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from concurrent.futures import Future
from typing import Any, Callable

# One worker per core of a free Space or a small VM: the readings are CPU work.
WORKERS = 2


class ReadingPool:
    """Drawings read by WORKERS threads, the waiting ones keyed by their pad (a session)."""

    def __init__(self, read: Callable[[Any], dict[str, Any]], superseded: Callable[[Any], dict[str, Any]],
                 workers: int = WORKERS) -> None:
        self._read, self._superseded = read, superseded
        # Waiting drawings, finished ones first: pad -> (drawing, its future), oldest first in each.
        self._finished: OrderedDict[str, tuple[Any, Future]] = OrderedDict()
        self._live: OrderedDict[str, tuple[Any, Future]] = OrderedDict()
        self._ready = threading.Condition()
        for _ in range(workers):
            threading.Thread(target=self._work, daemon=True, name="digitdraw reader").start()

    def submit(self, key: str, item: Any, live: bool = False) -> Future:
        """Queue `item` for its pad `key`, superseding the pad's waiting one: the future of its answer."""
        future: Future = Future()
        with self._ready:
            older = self._finished.pop(key, None) or self._live.pop(key, None)
            (self._live if live else self._finished)[key] = (item, future)
            self._ready.notify()
        if older is not None:
            older[1].set_result(self._superseded(older[0]))
        return future

    def _work(self) -> None:
        while True:
            with self._ready:
                while not (self._finished or self._live):
                    self._ready.wait()
                _, (item, future) = (self._finished or self._live).popitem(last=False)
            try:
                future.set_result(self._read(item))
            except Exception as e:  # noqa: BLE001 - the caller's thread raises it
                future.set_exception(e)
