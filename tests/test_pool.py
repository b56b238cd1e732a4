"""The reading pool: a few threads read every pad's drawings, newest first."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from digitdraw.pool import ReadingPool


def test_every_drawing_gets_its_own_answer_from_a_few_threads():
    threads, lock = set(), threading.Lock()

    def read(item):
        with lock:
            threads.add(threading.current_thread().name)
        time.sleep(0.01)
        return {"read": item}

    pool = ReadingPool(read, superseded=lambda item: {"superseded": item}, workers=2)
    with ThreadPoolExecutor(20) as clients:
        answers = list(clients.map(lambda i: pool.submit(f"pad {i}", i).result(), range(40)))
    assert answers == [{"read": i} for i in range(40)]  # one pad each: none superseded
    assert threads == {"digitdraw reader"} and threading.active_count() < 30


def test_a_pads_waiting_drawing_is_superseded_by_its_newer_one():
    started, release = threading.Event(), threading.Event()

    def read(item):
        if item == "busy":
            started.set()
            release.wait(5)
        return {"read": item}

    pool = ReadingPool(read, superseded=lambda item: {"superseded": item}, workers=1)
    results = {}
    busy = threading.Thread(target=lambda: results.update(busy=pool.submit("other pad", "busy").result()))
    busy.start()
    assert started.wait(5)  # the only worker is busy: what comes now waits
    older = threading.Thread(target=lambda: results.update(older=pool.submit("pad", "stroke so far").result()))
    older.start()
    time.sleep(0.05)
    newer = threading.Thread(target=lambda: results.update(newer=pool.submit("pad", "finished stroke").result()))
    newer.start()
    older.join(5)
    assert results["older"] == {"superseded": "stroke so far"}  # answered at once, unread
    release.set()
    for thread in (busy, newer):
        thread.join(5)
    assert results["newer"] == {"read": "finished stroke"} and results["busy"] == {"read": "busy"}


def test_an_error_reaches_the_caller_and_the_pool_reads_on():
    def read(item):
        if item == "bad":
            raise ValueError("unreadable")
        return {"read": item}

    pool = ReadingPool(read, superseded=lambda item: {}, workers=1)
    with pytest.raises(ValueError, match="unreadable"):
        pool.submit("pad", "bad").result()
    assert pool.submit("pad", "good").result() == {"read": "good"}


def test_a_finished_stroke_is_read_before_live_ones_that_came_earlier():
    started, release, order = threading.Event(), threading.Event(), []

    def read(item):
        if item == "busy":
            started.set()
            release.wait(5)
        order.append(item)
        return {"read": item}

    pool = ReadingPool(read, superseded=lambda item: {"superseded": item}, workers=1)
    futures = [pool.submit("pad 0", "busy")]
    assert started.wait(5)  # the only worker is busy: what comes now waits
    futures += [pool.submit(f"pad {i}", f"live {i}", live=True) for i in (1, 2)]
    futures.append(pool.submit("pad 3", "finished 3"))
    release.set()
    assert [f.result(5) for f in futures] == [{"read": item} for item in ("busy", "live 1", "live 2", "finished 3")]
    assert order == ["busy", "finished 3", "live 1", "live 2"]
