"""README's results table is exactly what the latest experiment reports say."""

from pathlib import Path

import pytest

from study import report

ROOT = Path(__file__).resolve().parent.parent


def test_readme_results_block_matches_the_reports():
    reports = report.latest_reports(ROOT / "results")
    if not reports:
        pytest.skip("no results/*/report.md yet: run `python app.py experiment --task pirate` first")
    held = report.readme_results((ROOT / "README.md").read_text())
    assert held is not None, (
        f"README.md has no {report.README_START} ... {report.README_END} block; "
        "run `python app.py experiment --update-readme`"
    )
    assert held == report.readme_block(ROOT / "results"), (
        "README.md's results block differs from results/*/report.md; run `python app.py experiment --update-readme`"
    )
