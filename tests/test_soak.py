"""A 20-second version of the soak (benchmarks/soak.py): 32 users, no failures, flat memory."""

from __future__ import annotations

import pytest

from benchmarks.soak import soak

pytestmark = pytest.mark.slow


def test_thirty_two_users_for_twenty_seconds(tmp_path):
    result = soak(seconds=20, users=32, work=tmp_path)
    assert result["requests"] > 100
    assert result["errors"] == 0, result["first_errors"]
    assert result["rss_growth_mb"] < 50
    assert result["upload_dir_max_mb"] < 100
