"""What each recipe reached: its rows in the committed runs' reports (results/**/report.md), read, never typed.

A trained row of an experiment is a recipe (feedback.recipes), so a report's row named after a recipe is that
recipe's measurement. The Train tab shows these figures beside the recipe's settings.
"""

from __future__ import annotations

from pathlib import Path

from study.report import cell_mean, summary_of, summary_rows

RESULTS = Path(__file__).resolve().parent.parent / "results"
COLUMNS = ("concept", "content", "formula")


def recipe_figures(name: str, results: Path = RESULTS) -> list[str]:
    """One line per committed run that trained recipe `name`: the run's folder and the row's concept, content and
    formula share (means), e.g. 'pirate-wide-qwen2.5-coder-1.5b: concept 0.33, content 0.62, formula 0.54'."""
    out = []
    for report in sorted(results.glob("**/report.md")):
        row = next((r for r in summary_rows(summary_of(report.read_text()))[1] if r.get("row") == name), None)
        if row:
            means = {head.split(" [")[0]: cell_mean(cell) for head, cell in row.items()}
            out.append(f"{report.parent.relative_to(results)}: " + ", ".join(f"{c} {means[c]}" for c in COLUMNS if c in means))
    return out


def figures_text(name: str, results: Path = RESULTS) -> str:
    """The recipe's measured figures as one sentence for people ('not measured in a committed run yet' without any)."""
    lines = recipe_figures(name, results)
    return "Measured (results/): " + "; ".join(lines) if lines else "Not measured in a committed run yet"
