"""The experiment's `llm-judge` stage: an LLM judge's concept and content scores of every row's eval answers."""

from __future__ import annotations

import json

from study.experiment_stages import fingerprint, free_memory, reusable_scores


def llm_judge_stage(runner, evals: dict[str, list[str]]) -> dict:
    """Stage `llm-judge`: the LLM judge's concept and content score of every row's eval answers,
    as {"judge": its name, "scores": {row: {axis: per-prompt scores}}}. Rows whose answers the same
    judge scored before are read back, so adding a row judges only that row."""
    from judging.judge import judge_name, pick_precision
    from models.loading import pick_device

    device = pick_device(runner.settings.device)  # the name and the loaded judge agree on it
    name = judge_name(runner.cfg.judge, pick_precision(runner.cfg.judge_precision, device))
    ids = [p["id"] for p in runner.eval]
    row_keys = {row: fingerprint(name, texts, ids) for row, texts in evals.items()}
    key = fingerprint(row_keys)
    found = runner.stages.get("llm-judge", key)
    if found is not None:
        return runner.step("llm-judge", lambda: found, cached=True)

    def run() -> dict:
        from judging.judge import judge_scores, load_judge
        from models.loading import clear_cache

        path = runner.stages.path("llm-judge")
        old = json.loads(path.read_text()) if path.is_file() else {}
        done = reusable_scores(old, name, evals, ids, row_keys)
        todo = [row for row in evals if row not in done]
        if todo:
            judge = load_judge(runner.cfg.judge, runner.settings, device=device, precision=runner.cfg.judge_precision)
            done.update({row: judge_scores(judge, runner.task, runner.eval, evals[row]) for row in todo})
            del judge
            clear_cache()
            free_memory()
        # rows of other --rows choices stay stored with their keys, for a later run to reuse
        kept = {r: k for r, k in old.get("row_keys", {}).items() if r not in evals and old.get("judge") == name}
        scores = {**{r: old["scores"][r] for r in kept}, **{row: done[row] for row in evals}}
        return runner.stages.put("llm-judge", key, {"judge": name, "scores": scores, "row_keys": {**kept, **row_keys}})

    return runner.step("llm-judge", run, cached=False)
