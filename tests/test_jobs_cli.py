"""`python app.py jobs list|cancel` covers every job kind from one place."""

import app
from storage import jobs


def test_jobs_list_and_cancel_cover_every_kind(settings, store, capsys):
    ids = {kind: jobs.enqueue(store, kind, {"task": "toy"}) for kind in jobs.KINDS}
    assert app.main(["--home", str(settings.home), "jobs", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [str(i) for i in sorted(ids.values(), reverse=True)]
    assert {line.split()[2] for line in lines} == set(jobs.KINDS) and all(line.split()[1] == "queued" for line in lines)

    assert app.main(["--home", str(settings.home), "jobs", "list", "--kind", "train"]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert line.split()[0] == str(ids["train"])

    for kind, job_id in ids.items():
        assert app.main(["--home", str(settings.home), "jobs", "cancel", str(job_id)]) == 0
        assert f"job {job_id}: cancelled" in capsys.readouterr().out
        assert jobs.get(store, job_id)["status"] == "cancelled"
    assert app.main(["--home", str(settings.home), "jobs", "cancel", str(ids["train"])]) == 2  # already ended
    assert "already ended" in capsys.readouterr().err
