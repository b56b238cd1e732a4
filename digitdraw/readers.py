"""Read the pad's drawings in worker processes, each with an interpreter lock of its own.

    readers = DrawingReaders(classifier, processes=2)    # 0: in the calling thread
    answer, digits = readers.read(drawing, prompt)       # the answer, and the (N, 28, 28)s it read

A reading is Python and numpy work that holds the interpreter lock most of the time. On threads of
the serving process, the readings and the web server take turns on one lock, and with a class
drawing at once the cores sat half idle while pen-ups waited (benchmarks/classroom.py). In
processes the readings run side by side and the web server keeps its lock. A drawing is a few KB
to send, and an answer a few KB back.

The workers are forked when the readers are made, before the server starts its threads, and share
the loaded weights with it (spawned ones would import the app's module again and build a second
app each). Make them after serving.configure_process(): a fork of a torch thread pool can hang.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import signal
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np

from .answers import Answer, recognize_batch
from .inference import Classifier

# Linux's prctl option that signals a process when its parent dies (linux/prctl.h).
PR_SET_PDEATHSIG = 1

# The classifier the workers read with: set before they are forked, so that they inherit it.
_classifier: Classifier | None = None


def read_drawing(classifier: Classifier, drawing: Any, prompt: str) -> tuple[Answer, np.ndarray | None]:
    """One drawing's answer (`prompt` when it is blank), and the 28x28s of the digits it read
    (None when it read none)."""
    digits: list[np.ndarray] = []
    answer = recognize_batch(classifier, [drawing], prompt, blank_is_empty=True, on_digits=digits.append)[0]
    return answer, (digits[0] if digits else None)


def _read_in_worker(drawing: Any, prompt: str) -> tuple[Answer, np.ndarray | None]:
    assert _classifier is not None, "the worker was forked before its classifier was set"
    return read_drawing(_classifier, drawing, prompt)


def _end_with_parent() -> None:
    """A worker ends when the server does, however it ends: killed, the server cannot stop it, and
    the pipe the worker waits on never closes (the fork holds both of its ends)."""
    try:
        ctypes.CDLL("libc.so.6").prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):  # not Linux: the executor's own shutdown still ends them
        pass


def _ready() -> None:
    """Nothing: sent to every worker at the start, so that all of them are forked there and then."""


class DrawingReaders:
    """`processes` worker processes reading drawings with `classifier`; with none, drawings are
    read in the calling thread (tests, and ZeroGPU, where only the serving process has the GPU)."""

    def __init__(self, classifier: Classifier, processes: int) -> None:
        global _classifier
        self._classifier = classifier
        self._executor: ProcessPoolExecutor | None = None
        if processes > 0:
            _classifier = classifier
            self._executor = ProcessPoolExecutor(processes, multiprocessing.get_context("fork"),
                                                 initializer=_end_with_parent)
            for started in [self._executor.submit(_ready) for _ in range(processes)]:
                started.result()

    def read(self, drawing: Any, prompt: str) -> tuple[Answer, np.ndarray | None]:
        """Read one drawing; the calling thread waits without holding the interpreter lock."""
        if self._executor is None:
            return read_drawing(self._classifier, drawing, prompt)
        return self._executor.submit(_read_in_worker, drawing, prompt).result()
