"""The published pages are generated: MODEL_CARD.md from reports/evaluate.json and the shipped
weights' contract, PERFORMANCE.md from the benchmarks' reports. Neither may drift by hand."""

from __future__ import annotations

import json

from benchmarks.report import PAGE, page, read_reports
from digitdraw.inference import WEIGHTS_PATH
from digitdraw.model import read_contract
from tests.harness import ROOT
from training.report import MODEL_CARD, REPORT, model_card


def test_the_model_card_is_what_the_committed_report_gives():
    expected = model_card(json.loads(REPORT.read_text()), read_contract(WEIGHTS_PATH)) + "\n"
    assert MODEL_CARD.read_text() == expected, "run: python -m training.report"


def test_the_performance_page_is_what_the_committed_reports_give():
    assert PAGE.read_text() == page(read_reports()), "run: python -m benchmarks.report"


def test_the_performance_page_has_every_benchmark():
    assert set(read_reports()) == {"engine", "browser", "cold_start", "serving", "replicas", "soak", "hostile", "classroom",
                                    "learn"}


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 250
