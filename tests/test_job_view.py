"""The one job-status view every tab uses."""

from ui.job_view import progress_html


def _job(**over):
    job = {"id": 3, "kind": "generate", "status": "running", "step": 4, "total": 40, "message": "", "log": "",
           "result": {}, "started_at": None, "finished_at": None}
    return {**job, **over}


def test_generate_job_shows_its_count_in_texts_once_and_escapes_markup():
    shown = progress_html(_job(message="weak model <b>x</b>: 4/40 texts", log="loading <script>alert(1)</script>"), unit="texts")
    assert shown.count("4/40") == 1 and "&lt;b&gt;x&lt;/b&gt;" in shown and "<script>" not in shown
    assert "4/40 texts" in progress_html(_job(), unit="texts")


def test_finished_jobs_say_what_they_produced():
    done = _job(status="done", step=40, result={"generated": 38, "outputs": list(range(40))})
    assert "generated 38 texts; 40 outputs in all" in progress_html(done, unit="texts")
    trained = _job(kind="train", status="done", result={"model": "pirate-dpo-2"})
    assert "model version <code>pirate-dpo-2</code>" in progress_html(trained)
    failed = _job(status="failed", message="out of memory", result={"generated": 1})
    assert "generated" not in progress_html(failed) and "out of memory" in progress_html(failed)


def test_running_generate_and_evaluate_jobs_say_the_time_left():
    from datetime import datetime, timedelta

    started = (datetime.now() - timedelta(seconds=60)).isoformat()
    shown = progress_html(_job(step=10, total=40, started_at=started), unit="texts")
    assert "10/40 texts" in shown and "about 3 min" in shown and "left" in shown  # 60 s for 10, so ~180 s for 30
    assert "left" not in progress_html(_job(step=0, started_at=started))  # no pace yet
    assert progress_html(_job(step=10, message="step 10/40, 2 min left", started_at=started)).count("left") == 1  # train says it
    assert "left" not in progress_html(_job(status="done", step=40, started_at=started, finished_at=started))


def test_step_plots_of_a_short_job_use_whole_number_ticks():
    import pandas as pd

    from ui.figures import line_plot

    two = line_plot(pd.DataFrame({"step": [1, 2], "value": [0.7, 0.6]}), "none")
    assert two.x_lim == [0, 10] and two.x_axis_format == "d"  # ticks 0, 1, 2, ... not 1.0, 1.1, ...
    assert line_plot(pd.DataFrame({"step": [1, 40], "value": [0.7, 0.6]}), "none").x_lim == [0, 40]
    assert line_plot(pd.DataFrame({"step": [], "value": []}), "nothing yet").caption == "nothing yet"
