"""What a train job would train on, said before it is queued: the number of examples the task, method
and filters give (training.methods.build, the job's own builder), and warnings when they are too few
to mean anything. The Train tab shows it as the form changes and refuses to queue a job with none."""

from __future__ import annotations

import math

from storage import tasks as task_store
from storage import votes as vote_store
from storage.errors import UserError
from training import methods

# Under this many examples a run is a handful of optimizer steps: the loss curve and the model version
# it registers say more about the noise in those few pairs than about the annotators' preference.
MIN_EXAMPLES = 16


def check(store, task: str, method: str, config) -> dict:
    """{"n", "steps", "annotators" (None when the method uses no votes), "warnings"}; raises UserError
    (what is missing and how to get it) when there is nothing to train on."""
    examples, _ = methods.build(store, task, method, config)
    n = len(examples)
    per_step = config.batch_size * config.gradient_accumulation_steps
    steps = config.max_steps if config.max_steps > 0 else math.ceil(n * config.num_train_epochs / per_step)
    warnings, annotators = [], None
    if n < MIN_EXAMPLES:
        warnings.append(f"only {n} examples ({steps} optimizer steps): under {MIN_EXAMPLES} the run mostly fits noise; "
                        "collect more votes or generate more outputs first")
    if methods.get(method).needs_votes:
        ids = {e["id"] for e in examples}
        task_id = task_store.get_task(store, task)["id"]
        voters = {v["user_id"] for v in vote_store.list_votes(store, task_id=task_id) if v["pair_id"] in ids}
        annotators = len(voters)
        if annotators == 1:
            warnings.append("every vote comes from one annotator: the model learns that person's taste, and "
                            "agreement and gold checks cannot tell their mistakes apart; ask a second annotator")
    if config.split != "train":
        warnings.append(f"the {config.split} split is held out for evaluating and choosing models; training on it "
                        "makes later scores on it meaningless")
    return {"n": n, "steps": steps, "annotators": annotators, "warnings": warnings}


def summary(store, task: str | None, method: str, config) -> str:
    """The check as one Markdown paragraph for the Train form (never raises)."""
    if not task:
        return "Pick a task to see how much data it has."
    try:
        c = check(store, task, method, config)
    except UserError as err:
        return f"**Cannot train:** {err}"
    who = "" if c["annotators"] is None else f" from {c['annotators']} annotator{'s' * (c['annotators'] != 1)}"
    text = f"**{c['n']} trainable examples**{who} for {method} on {task} ({c['steps']} optimizer steps)."
    return text + "".join(f"\n\n**Warning:** {w}." for w in c["warnings"])
