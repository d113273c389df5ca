"""The generated results blocks are exactly what the latest experiment reports say: the full block in
results/README.md, the headline table in README.md; and README.md stays a front door (at most 200 lines)."""

from pathlib import Path

import pytest

from study import report

ROOT = Path(__file__).resolve().parent.parent
RERUN = "run `python app.py experiment --update-readme`"


def _reports_or_skip():
    if not report.latest_reports(ROOT / "results"):
        pytest.skip("no results/*/report.md yet: run `python app.py experiment --task pirate` first")


def test_results_page_block_matches_the_reports():
    _reports_or_skip()
    held = report.readme_results((ROOT / "results" / "README.md").read_text())
    assert held is not None, f"results/README.md has no {report.README_START} ... {report.README_END} block; {RERUN}"
    assert held == report.readme_block(ROOT / "results"), f"results/README.md's results block differs from results/*/report.md; {RERUN}"


def test_readme_headline_table_matches_the_reports():
    _reports_or_skip()
    held = report.readme_results((ROOT / "README.md").read_text(), report.HEADLINE_START, report.HEADLINE_END)
    assert held is not None, f"README.md has no {report.HEADLINE_START} ... {report.HEADLINE_END} block; {RERUN}"
    assert held == report.headline_block(ROOT / "results"), f"README.md's headline table differs from results/*/report.md; {RERUN}"


def test_readme_is_a_front_door_of_at_most_200_lines():
    lines = (ROOT / "README.md").read_text().count("\n")
    assert lines <= 200, f"README.md has {lines} lines; move detail to docs/guide.md, results/, bench/ or docs/scorers.md"
