"""The experiment report: gap-recovered ratios, the Markdown table, the concept-vs-content figure, the
results block of results/README.md rebuilt from every results/*/report.md, and README.md's headline table.

Pure functions over row dicts {name, concept: {mean, lo, hi}|None, content: {...}|None}; no model code,
so the README tests and the Results tab can use them without torch.
"""

from __future__ import annotations

from pathlib import Path

import docblocks
from storage.terms import AXES, CONCEPT, CONTENT

SUMMARY_END = "<!-- end of summary -->"
README_START = "<!-- results:start -->"
README_END = "<!-- results:end -->"
HEADLINE_START = "<!-- headline:start -->"
HEADLINE_END = "<!-- headline:end -->"
HEADLINE_COLUMNS = (CONCEPT, "formula", CONTENT, "repetition")


def gap_ratio(value: float | None, start: float | None, end: float | None) -> float | None:
    """(value - start) / (end - start): 0 at `start`, 1 at `end`; None when undefined (missing or equal ends)."""
    if value is None or start is None or end is None or abs(end - start) < 1e-9:
        return None
    return (value - start) / (end - start)


def add_ratios(rows: list[dict], weak: str = "weak model", strong: str = "strong base") -> list[dict]:
    """Rows with `transferred` = (concept - strong base)/(weak - strong base) and `kept` = (content - weak)/(strong base - weak).

    Concept transferred is 1 when a row shows the concept as much as the weak teacher, 0 when no more
    than the untouched strong model; content kept is 1 at the strong model's content, 0 at the weak one's.
    """
    by_name = {r["name"]: r for r in rows}

    def mean(row: dict | None, axis: str) -> float | None:
        return row[axis]["mean"] if row and row.get(axis) else None

    w, s = by_name.get(weak), by_name.get(strong)
    out = []
    for r in rows:
        out.append({
            **r,
            "transferred": gap_ratio(mean(r, CONCEPT), mean(s, CONCEPT), mean(w, CONCEPT)),
            "kept": gap_ratio(mean(r, CONTENT), mean(w, CONTENT), mean(s, CONTENT)),
        })
    return out


def _interval(stat: dict | None) -> str:
    if not stat:
        return "n/a"
    return f"{stat['mean']:.2f} [{stat['lo']:.2f}, {stat['hi']:.2f}]"


def _ratio(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2f}"


def markdown_table(rows: list[dict]) -> str:
    """The results table: one line per row, concept and content with 95% intervals, both ratios, and
    (when the rows carry them) the share of formula answers (study.formula), the mean repetition
    of the row's answers and an LLM judge's scores."""
    formulas = any("formula" in r for r in rows)
    repeats = any("repetition" in r for r in rows)
    judged = [axis for axis in AXES if any(f"judge_{axis}" in r for r in rows)]  # an axis may be gated off
    extra_head = (" formula |" if formulas else "") + (" repetition |" if repeats else "") \
        + "".join(f" judge {axis} |" for axis in judged)
    lines = [
        "| row | concept [95% CI] | content [95% CI] | concept transferred | content kept |" + extra_head,
        "|---|---|---|---|---|" + "---|" * extra_head.count("|"),
    ]
    for r in rows:
        extra = f" {_ratio(r.get('formula'))} |" if formulas else ""
        extra += (f" {_ratio(r['repetition']['mean']) if r.get('repetition') else 'n/a'} |" if repeats else "")
        extra += "".join(f" {_interval(r.get(f'judge_{axis}'))} |" for axis in judged)
        lines.append(
            f"| {r['name']} | {_interval(r.get(CONCEPT))} | {_interval(r.get(CONTENT))} "
            f"| {_ratio(r.get('transferred'))} | {_ratio(r.get('kept'))} |" + extra
        )
    return "\n".join(lines)


def differences_table(differences: list[dict]) -> str:
    """Paired differences, one line per comparison: {refined, naive, concept: {mean, lo, hi[, p_holm]}, content: {...}}.

    With a Holm-adjusted p-value a difference is marked significant when that p is below 0.05 (the
    family of comparisons corrected together); without one, when its 95% interval excludes 0."""
    def cell(stat: dict | None) -> str:
        if not stat:
            return "n/a"
        if "p_holm" in stat:
            mark = f" p(Holm) {stat['p_holm']:.3f}" + (" (significant)" if stat["p_holm"] < 0.05 else "")
        else:
            mark = " (significant)" if stat["lo"] > 0 or stat["hi"] < 0 else ""
        return f"{stat['mean']:+.2f} [{stat['lo']:+.2f}, {stat['hi']:+.2f}]{mark}"

    lines = ["| refined − naive | concept [95% paired CI] | content [95% paired CI] |", "|---|---|---|"]
    for d in differences:
        lines.append(f"| {d['refined']} − {d['naive']} | {cell(d.get(CONCEPT))} | {cell(d.get(CONTENT))} |")
    return "\n".join(lines)


def report_markdown(title: str, setup: str, rows: list[dict], details: str = "", differences: list[dict] | None = None) -> str:
    """report.md: a summary (title, setup line, table, paired differences) that the README copies verbatim, then details."""
    summary = f"### {title}\n\n{setup}\n\n{markdown_table(rows)}\n"
    if differences:
        summary += f"\n{differences_table(differences)}\n"
    return f"{summary}\n{SUMMARY_END}\n\n{details.strip()}\n" if details.strip() else f"{summary}\n{SUMMARY_END}\n"


def summary_of(report_text: str) -> str:
    """The part of a report.md that goes into the README (everything above the summary marker)."""
    if SUMMARY_END not in report_text:
        raise ValueError(f"report has no {SUMMARY_END!r} marker")
    return report_text.split(SUMMARY_END, 1)[0].strip()


def latest_reports(results_root: Path) -> list[Path]:
    """Every results/<run>/report.md, in run-folder order."""
    return sorted(Path(results_root).glob("*/report.md"))


def readme_block(results_root: Path) -> str:
    """The README results section: the summaries of all reports, one after another."""
    return "\n\n".join(summary_of(p.read_text()) for p in latest_reports(results_root))


def readme_results(readme_text: str, start: str = README_START, end: str = README_END) -> str | None:
    """What a page holds between the markers (default: the results block), or None without markers."""
    return docblocks.between(readme_text, start, end)


def replace_readme_results(readme_text: str, block: str, start: str = README_START, end: str = README_END) -> str:
    """A page's text with the block between the markers (default: the results block) replaced or appended."""
    return docblocks.replace(readme_text, block, start, end)


def summary_rows(summary: str) -> tuple[str, list[dict[str, str]]]:
    """A report summary's title and its results table as {column header: cell} per row (first table only)."""
    title = next((line[4:].strip() for line in summary.splitlines() if line.startswith("### ")), "")
    lines = [line for line in summary.splitlines() if line.startswith("|")]
    if not lines:
        return title, []
    cells = lambda line: [c.strip() for c in line.strip().strip("|").split("|")]  # noqa: E731
    head, rows = cells(lines[0]), []
    for line in lines[2:]:
        if line.startswith("| refined − naive"):
            break
        rows.append(dict(zip(head, cells(line))))
    return title, rows


def cell_mean(cell: str | None) -> str:
    """A table cell's figure without its interval ('0.63 [0.57, 0.69]' -> '0.63'); '—' when the report lacks it."""
    return cell.split(" [")[0] if cell else "—"


def headline_block(results_root: Path) -> str:
    """README.md's headline: per report, its title and a compact table (row, concept, formula, content, repetition)."""
    parts = []
    for path in latest_reports(results_root):
        title, rows = summary_rows(summary_of(path.read_text()))
        heads = {c: next((h for h in (rows[0] if rows else {}) if h.split(" [")[0] == c), None) for c in HEADLINE_COLUMNS}
        table = ["| row | " + " | ".join(HEADLINE_COLUMNS) + " |", "|---|" + "---|" * len(HEADLINE_COLUMNS)]
        for r in rows:
            table.append(f"| {r['row']} | " + " | ".join(cell_mean(r.get(heads[c])) if heads[c] else "—" for c in HEADLINE_COLUMNS) + " |")
        parts.append(f"**{title}** ({path.parent.name})\n\n" + "\n".join(table))
    return "\n\n".join(parts)


def _rewrite(path: Path, block: str, start: str, end: str, what: str) -> bool:
    if not block:
        from storage.errors import UserError

        raise UserError(f"no report.md for {what}; run `python app.py experiment` first")
    old = path.read_text()
    new = replace_readme_results(old, block, start, end)
    if new != old:
        path.write_text(new)
    return new != old


def update_readme(readme: Path, results_root: Path) -> bool:
    """Rewrite a page's results block (results/README.md's) from the reports under `results_root`; True if it changed."""
    return _rewrite(readme, readme_block(results_root), README_START, README_END, f"{results_root}/*/")


def update_headline(readme: Path, results_root: Path) -> bool:
    """Rewrite README.md's headline table from the reports under `results_root`; True if the file changed."""
    return _rewrite(readme, headline_block(results_root), HEADLINE_START, HEADLINE_END, f"{results_root}/*/")


def scatter_figure(rows: list[dict], title: str):
    """A matplotlib Figure of concept (x) against content (y), one point per row, 95% intervals as error bars."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6.4, 4.8), dpi=120)
    ax = fig.subplots()
    for r in rows:
        c, k = r.get(CONCEPT), r.get(CONTENT)
        if not c or not k:
            continue
        ax.errorbar(
            c["mean"], k["mean"],
            xerr=[[c["mean"] - c["lo"]], [c["hi"] - c["mean"]]],
            yerr=[[k["mean"] - k["lo"]], [k["hi"] - k["mean"]]],
            fmt="o", capsize=3, label=r["name"],
        )
        ax.annotate(r["name"], (c["mean"], k["mean"]), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xlabel("concept (style score)")
    ax.set_ylabel("content (capability score)")
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(-0.05, 1.05)
    ax.grid(alpha=0.3)
    ax.set_title(title, fontsize=10)
    if ax.has_data():
        ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    return fig


def plot(rows: list[dict], path: Path, title: str) -> None:
    """report.png: scatter_figure() saved to `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scatter_figure(rows, title).savefig(path)
