"""Training checks its data before it queues (training/data_check.py and the Train tab): the count of
trainable examples, a refusal with the reason when there are none, warnings when they are too few."""

import pytest

from storage import jobs
from storage.errors import UserError
from tests.fixtures_trainer import task_with_outputs, vote_all
from training import data_check
from training.config import TrainConfig


def test_no_examples_is_refused_with_what_to_do(store):
    task_with_outputs(store, n=3)
    with pytest.raises(UserError, match="nothing to train on: no preference pairs with votes.*collect votes"):
        data_check.check(store, "toy", "dpo", TrainConfig())
    assert data_check.summary(store, "toy", "dpo", TrainConfig()).startswith("**Cannot train:** nothing to train on")


def test_few_examples_from_one_annotator_warn(store):
    task_id = task_with_outputs(store, n=3)
    vote_all(store, task_id, n_users=1)
    c = data_check.check(store, "toy", "dpo", TrainConfig())
    assert (c["n"], c["steps"], c["annotators"]) == (3, 1, 1)
    assert any("only 3 examples" in w for w in c["warnings"]) and any("one annotator" in w for w in c["warnings"])
    text = data_check.summary(store, "toy", "dpo", TrainConfig())
    assert "**3 trainable examples** from 1 annotator" in text and text.count("**Warning:**") == 2


def test_enough_examples_from_two_annotators_do_not_warn(store):
    task_id = task_with_outputs(store, n=20, votes_wanted=2)
    vote_all(store, task_id, n_users=2)
    c = data_check.check(store, "toy", "dpo", TrainConfig())
    assert (c["n"], c["annotators"], c["warnings"]) == (20, 2, [])
    assert data_check.check(store, "toy", "sft-weak", TrainConfig())["annotators"] is None  # no votes needed


def test_training_on_a_held_out_split_warns(store):
    task_with_outputs(store, n=20)
    from tests.fixtures_annotation import make_pairs
    from storage import tasks
    make_pairs(store, tasks.get_task(store, "toy")["id"], 20, split="eval")
    (warning,) = data_check.check(store, "toy", "sft-weak", TrainConfig(split="eval"))["warnings"]
    assert "held out" in warning


def test_train_tab_refuses_a_job_without_data_at_once(tmp_path):
    from tests.fixtures_app import running_app, signed_in

    form = ["", 0.0, False, "train", "icl-refine", "weak", 0, 0.0, 1.0, 3, 2, 4, "robust", "", 0.1, -1.0, 8, 256, True]
    with running_app(tmp_path / "home") as (url, store):
        researcher = signed_in(url, "res")
        status = researcher.predict("toy", "none", "dpo", *form, None, api_name="/train_start")[1]
        assert "Not started:</b> nothing to train on" in status and "collect votes" in status
        assert jobs.list_jobs(store, kind="train") == []
