"""The hostile-input suite (benchmarks/hostile.py) against the real app: 30 kinds of bad input."""

from __future__ import annotations

import pytest

from benchmarks.hostile import CASES, run_suite

pytestmark = pytest.mark.slow


def test_every_hostile_input_gets_a_clear_answer_and_the_server_keeps_serving(app_url, tmp_path):
    assert len(CASES) >= 25
    results = run_suite(app_url, tmp_path)
    problems = [(name, problem) for name, problem, _ in results if problem]
    assert not problems, problems
