"""What each recipe reached: its rows in the committed runs' reports (results/**/report.md), read, never typed.

A trained row of an experiment is a recipe (feedback.recipes), so a report's row named after a recipe is that
recipe's measurement. The Train tab shows these figures beside the recipe's settings.
"""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent.parent / "results"
HEADER = "| row | concept"  # the summary table of study.experiment_report
COLUMNS = ("concept", "content", "formula")


def _mean(cell: str) -> str:
    """'0.33 [0.31, 0.35]' -> '0.33'."""
    return cell.split("[")[0].strip()


def report_rows(report: Path) -> dict[str, dict[str, str]]:
    """{row name: {column: mean}} of the summary table of one report.md (empty without one)."""
    lines = report.read_text().splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(HEADER)), None)
    if start is None:
        return {}
    names = [c.strip().split(" [")[0] for c in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        rows[cells[0]] = {name: _mean(cell) for name, cell in zip(names[1:], cells[1:])}
    return rows


def recipe_figures(name: str, results: Path = RESULTS) -> list[str]:
    """One line per committed run that trained recipe `name`: the run's folder and the row's concept, content and
    formula share (means), e.g. 'pirate-wide-qwen2.5-coder-1.5b: concept 0.33, content 0.62, formula 0.54'."""
    out = []
    for report in sorted(results.glob("**/report.md")):
        row = report_rows(report).get(name)
        if row:
            figures = ", ".join(f"{c} {row[c]}" for c in COLUMNS if c in row)
            out.append(f"{report.parent.relative_to(results)}: {figures}")
    return out


def figures_text(name: str, results: Path = RESULTS) -> str:
    """The recipe's measured figures as one sentence for people ('not measured in a committed run yet' without any)."""
    lines = recipe_figures(name, results)
    return "Measured (results/): " + "; ".join(lines) if lines else "Not measured in a committed run yet"
