"""The Research tab's tables and chart: readable headers, one bar per matchup, a 0 win rate visible."""

from ui import research


def test_win_rate_chart_draws_each_matchup_once_and_shows_a_zero_rate():
    rows = [
        {"strategy": "icl-refine", "opponent": "weak", "rate": 1.0, "lo": 1.0, "hi": 1.0, "n": 3},
        {"strategy": "weak", "opponent": "icl-refine", "rate": 0.0, "lo": 0.0, "hi": 0.0, "n": 3},
    ]
    fig = research.win_rate_figure(rows)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["icl-refine vs weak (n=3)"]
    zero = research.win_rate_figure([{**rows[1], "strategy": "a-weak"}]).axes[0]
    assert [tuple(line.get_xdata()) for line in zero.lines if line.get_marker() == "o"] == [(0.0,)]
    (empty,) = research.win_rate_figure([]).axes
    assert [t.get_text() for t in empty.texts] == ["Nothing yet: no votes between two different strategies in this task."]


def test_headers_are_for_people_and_the_gold_choices_use_verdict_terms():
    assert "votes_wanted" not in research.headers(research.OVERVIEW_COLUMNS)
    assert all("_" not in h for h in research.headers(research.PAIR_COLUMNS + research.ANNOTATOR_COLUMNS))
    assert {"Text A", "Text B"} <= set(research.headers(research.PAIR_COLUMNS))
    assert [label for label, _ in research.GOLD_CHOICES][:2] == ["A is better", "B is better"]


def test_cells_read_as_words_and_empty_tables_say_why():
    rows = [{"task": "toy", "coverage": 0.041, "alpha": 0.12345, "active": 1}, {"task": "b", "coverage": None, "active": 0}]
    assert research._table(rows, ["task", "coverage", "alpha", "active"]) == [["toy", "4%", 0.123, "yes"], ["b", "", "", "no"]]
    assert research._table([], ["task", "coverage"], "(no tasks yet)") == [["(no tasks yet)", ""]]
    assert research._table([], ["task", "coverage"]) == []


def test_train_versions_table_says_why_it_is_empty(store):
    from ui.train_tab import VERSION_COLUMNS, version_rows

    (row,) = version_rows(store)
    assert row[0].startswith("(no trained versions yet") and len(row) == len(VERSION_COLUMNS)
