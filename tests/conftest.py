"""Shared fixtures: a drawn 7, held-out writers' pen strokes, and the real app in a subprocess."""

from __future__ import annotations

import pytest
from PIL import Image

from tests.harness import free_port, start_app, stop
from tests.images import draw_seven
from training import data


@pytest.fixture
def seven() -> Image.Image:
    return draw_seven()


@pytest.fixture(scope="session")
def held_out_digits() -> list[data.PenDigit]:
    """Pen strokes of the writers held out of training, a few of each class."""
    digits = data.pendigits_for(data.TEST_WRITERS)
    return [d for label in range(10) for d in [x for x in digits if x.label == label][:12]]


@pytest.fixture(scope="session")
def app_process(tmp_path_factory) -> tuple[int, int]:
    """The real app, started once for the API and browser tests: its port and process id."""
    port = free_port()
    process = start_app(port, tmp_path_factory.mktemp("app") / "app.log")
    yield port, process.pid
    stop(process)


@pytest.fixture(scope="session")
def app_url(app_process) -> str:
    return f"http://127.0.0.1:{app_process[0]}/"


DATA_FIXTURES = {"held_out_digits", "by_writer"}  # fixtures that read ../shared/data


def pytest_collection_modifyitems(items):
    """Tests that use a fixture reading the data sets need them: mark them `data`."""
    for item in items:
        if DATA_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.data)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Remember each phase's report on the test item, so fixtures can see if the test failed."""
    outcome = yield
    setattr(item, f"rep_{call.when}", outcome.get_result())
