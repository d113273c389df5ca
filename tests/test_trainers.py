"""Trainers on tiny random models: LoRA weights move, base weights stay, adapters reload identically;
datasets from stored feedback; two DPO steps on the embedded weak model."""

from __future__ import annotations

import math

import pytest
import torch

from storage.errors import UserError
from tests.tiny import tiny_model_dir  # noqa: F401  (fixture)
from tests.fixtures_annotation import make_task
from tests.fixtures_trainer import preference_examples, task_with_outputs, vote_all
from training import datasets as tds
from training import methods
from training import trainers
from training.config import TrainConfig
from models.loading import load_uncached


@pytest.fixture
def tiny(tiny_model_dir) -> str:
    return str(tiny_model_dir)


def examples_for(store, method: str) -> list[dict]:
    """The method's own examples, built by its registry entry from a task with outputs, votes and ratings."""
    task_id = task_with_outputs(store, "toy", n=6)
    vote_all(store, task_id, 2, choice="a", ratings={"a": 5, "b": 1})
    examples, _ = methods.build(store, "toy", method, TrainConfig())
    return examples


def logits(model, tokenizer):
    ids = tokenizer.apply_chat_template([{"role": "user", "content": "Question 1?"}], add_generation_prompt=True, return_tensors="pt")
    ids = ids["input_ids"] if not torch.is_tensor(ids) else ids
    with torch.no_grad():
        return model(input_ids=ids).logits


@pytest.mark.parametrize("method", methods.NAMES)
def test_every_method_moves_lora_keeps_base_and_reloads(method, tiny, settings, store, tmp_path):
    from peft import PeftModel

    model, tokenizer = load_uncached(tiny, settings, device="cpu")
    base = {name: p.detach().clone() for name, p in model.named_parameters()}
    config = TrainConfig(max_steps=3, batch_size=2, learning_rate=1e-2, warmup_ratio=0.0, save_steps=100, device="cpu")
    logged = []
    result = trainers.train(tiny, method, examples_for(store, method), config, tmp_path / "run", settings=settings,
                            model=model, tokenizer=tokenizer, on_log=lambda step, values: logged.append((step, values)))

    assert result.global_step == 3 and result.resumed_from_step == 0
    assert [s for s, _ in logged] == [1, 2, 3] and all("loss" in v and "learning_rate" in v for _, v in logged)
    if methods.get(method).preference:
        assert all("rewards/margins" in v and "rewards/accuracies" in v for _, v in logged)
    lora = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert lora and all(p.requires_grad for p in lora.values())
    assert any(p.abs().max() > 0 for n, p in lora.items() if "lora_B" in n), "LoRA B starts at zero and must have moved"
    for name, p in model.named_parameters():
        if "lora_" not in name:
            assert torch.equal(p, base[name.replace(".base_layer", "")]), f"base weight {name} changed"

    fresh, _ = load_uncached(tiny, settings, device="cpu")
    base_logits = logits(fresh, tokenizer)
    reloaded = PeftModel.from_pretrained(fresh, str(result.adapter_dir)).eval()
    model.eval()
    assert torch.allclose(logits(model, tokenizer), logits(reloaded, tokenizer), atol=1e-6)
    assert not torch.equal(base_logits, logits(reloaded, tokenizer)), "the adapter must change the model"


def test_label_smoothing_comes_from_disagreement():
    cfg = TrainConfig()
    assert trainers.label_smoothing_for(cfg, [{"agreement": 1.0}, {"agreement": 0.5}]) == pytest.approx(0.25)
    assert trainers.label_smoothing_for(cfg, [{"agreement": 0.5}]) == pytest.approx(0.4)  # clipped
    assert trainers.label_smoothing_for(cfg, [{"agreement": None}]) == 0.0  # dpo-refined: no votes
    assert trainers.label_smoothing_for(TrainConfig(label_smoothing=0.1), [{"agreement": 0.5}]) == 0.1


def test_a_checkpoint_cut_off_while_saving_is_never_resumed_from(tmp_path):
    """A worker killed mid-save leaves a checkpoint without its trainer state, or with part of it: the last whole one counts."""
    for step, state in ((4, '{"global_step": 4}'), (8, None), (12, ""), (16, '{"global_st')):
        (tmp_path / f"checkpoint-{step}").mkdir()
        if state is not None:
            (tmp_path / f"checkpoint-{step}" / "trainer_state.json").write_text(state)
    assert trainers.last_checkpoint(tmp_path) == tmp_path / "checkpoint-4"
    assert trainers.last_checkpoint(tmp_path / "none") is None


def test_trl_dataset_is_conversational_and_length_sorted():
    examples = [{"id": 1, "prompt": "long question?", "chosen": "a" * 50, "rejected": "b"}, {"id": 2, "prompt": "q?", "chosen": "c", "rejected": "d"}]
    ds = methods.to_trl_dataset("dpo", examples)
    assert ds[0]["prompt"] == [{"role": "user", "content": "q?"}]
    assert ds[1]["chosen"] == [{"role": "assistant", "content": "a" * 50}]
    sft = methods.to_trl_dataset("sft-weak", [{"id": 1, "prompt": "q", "completion": "c"}])
    assert set(sft.column_names) == {"prompt", "completion"}
    with pytest.raises(UserError):
        methods.to_trl_dataset("nope", examples)


def test_snapshot_names_ids_and_hashes_texts():
    a = tds.snapshot(preference_examples(3))
    changed = preference_examples(3)
    changed[0]["chosen"] += "!"
    assert a["ids"] == [0, 1, 2] and a["n"] == 3
    assert a["hash"] == tds.snapshot(preference_examples(3))["hash"] != tds.snapshot(changed)["hash"]


def test_build_from_outputs_and_votes(store):
    task_id = task_with_outputs(store, n=4, votes_wanted=2)
    cfg = TrainConfig()
    weak, snap = methods.build(store, "toy", "sft-weak", cfg)
    assert [e["completion"] for e in weak] == [f"Answer {i} maybe." for i in range(4)] and snap["n"] == 4
    refined, _ = methods.build(store, "toy", "sft-refined", cfg)
    assert refined[0]["completion"] == "Arr, answer 0 be right." and refined[0]["prompt"] == "Question 0?"
    pairs, _ = methods.build(store, "toy", "dpo-refined", cfg)
    assert (pairs[1]["chosen"], pairs[1]["rejected"]) == ("Arr, answer 1 be right.", "Answer 1 maybe.")

    with pytest.raises(UserError, match="no preference pairs with votes.*collect votes"):
        methods.build(store, "toy", "dpo", cfg)
    vote_all(store, task_id, 1, choice="a", prefix="x")
    vote_all(store, task_id, 1, choice="b", prefix="y")  # every pair split 1:1 -> no majority
    with pytest.raises(UserError, match="nothing to train on"):
        methods.build(store, "toy", "dpo", cfg)


def test_build_dpo_filters_by_agreement(store):
    task_id = task_with_outputs(store, n=3, votes_wanted=3)
    vote_all(store, task_id, 2, choice="a", prefix="x")
    prefs, snap = methods.build(store, "toy", "dpo", TrainConfig())
    assert len(prefs) == 3 and all(p["chosen"].startswith("Arr") and p["agreement"] == 1.0 for p in prefs)
    vote_all(store, task_id, 1, choice="b", prefix="y")
    prefs, _ = methods.build(store, "toy", "dpo", TrainConfig(min_agreement=0.6))
    assert len(prefs) == 3 and prefs[0]["agreement"] == pytest.approx(2 / 3)
    with pytest.raises(UserError, match="min agreement 0.9"):
        methods.build(store, "toy", "dpo", TrainConfig(min_agreement=0.9))
    assert trainers.label_smoothing_for(TrainConfig(), prefs) == pytest.approx(1 / 3)


def test_build_kto_from_ratings(store):
    task_id = task_with_outputs(store, n=2, votes_wanted=2)
    with pytest.raises(UserError, match="1-5 ratings"):
        methods.build(store, "toy", "kto", TrainConfig())
    vote_all(store, task_id, 1, prefix="x", ratings={"a": 5, "b": 1})
    vote_all(store, task_id, 1, prefix="y", ratings={"a": 4, "b": 4})
    examples, _ = methods.build(store, "toy", "kto", TrainConfig())
    # refined (a): mean 4.5 -> desirable; weak (b): mean 2.5 -> neither at the default threshold 4
    assert [(e["completion"], e["label"]) for e in examples] == [("Arr, answer 0 be right.", True), ("Arr, answer 1 be right.", True)]
    examples, _ = methods.build(store, "toy", "kto", TrainConfig(kto_threshold=3))
    assert sorted(e["label"] for e in examples) == [False, False, True, True]


def test_build_refuses_unknown_task_and_eval_split_without_data(store):
    task_with_outputs(store, n=2)
    with pytest.raises(UserError, match="unknown task"):
        methods.build(store, "nope", "sft-weak", TrainConfig())
    with pytest.raises(UserError, match="eval split"):
        methods.build(store, "toy", "sft-weak", TrainConfig(split="eval"))
    with pytest.raises(UserError, match="in the validation split"):
        methods.build(store, "toy", "sft-weak", TrainConfig(split="validation"))


def test_the_split_choices_are_storages_splits():
    import argparse

    from storage.tasks import SPLITS
    from training.config import add_arguments, from_args

    assert TrainConfig(split="validation").validate().split == "validation"
    with pytest.raises(UserError, match="split must be one of train, validation, eval"):
        TrainConfig(split="test").validate()
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert from_args(parser.parse_args(["--split", "validation"])).split == "validation"
    assert [a for a in parser._actions if a.dest.endswith("split")][0].choices == SPLITS


@pytest.mark.parametrize("method", methods.NAMES)
def test_every_method_says_what_is_missing_and_how_to_get_it(method, store):
    make_task(store, "empty")
    with pytest.raises(UserError, match=r"^nothing to train on: no .+; .+") as err:
        methods.build(store, "empty", method, TrainConfig())
    assert "'empty'" in str(err.value)
    entry = methods.get(method)
    assert entry.default_lr > 0 and entry.name == method
    assert methods.learning_rate(TrainConfig(), method) == entry.default_lr and methods.learning_rate(TrainConfig(learning_rate=0.5), method) == 0.5


def test_unknown_method_names_the_choices():
    with pytest.raises(UserError, match="unknown method 'nope'; choose one of dpo, sft-weak"):
        methods.get("nope")


@pytest.mark.embedded
def test_two_dpo_steps_on_embedded_weak_model(settings, tmp_path):
    model, tokenizer = load_uncached("smollm2-135m", settings, device="cpu")
    base = {n: p.detach().clone() for n, p in model.named_parameters()}
    examples = [
        {"id": 0, "prompt": "What is the capital of France?", "chosen": "Arr, Paris be the capital, matey!", "rejected": "Lyon.", "agreement": 1.0},
        {"id": 1, "prompt": "How many legs has a spider?", "chosen": "Eight legs, ye landlubber!", "rejected": "Six.", "agreement": 1.0},
    ]
    config = TrainConfig(max_steps=2, batch_size=1, learning_rate=1e-3, warmup_ratio=0.0, save_steps=100, device="cpu")
    result = trainers.train("smollm2-135m", "dpo", examples, config, tmp_path / "run", settings=settings, model=model, tokenizer=tokenizer)
    assert result.global_step == 2 and (result.adapter_dir / "adapter_config.json").is_file()
    assert any(p.abs().max() > 0 for n, p in model.named_parameters() if "lora_B" in n)
    for name, p in model.named_parameters():
        if "lora_" not in name:
            assert torch.equal(p, base[name.replace(".base_layer", "")]), f"base weight {name} changed"


def test_a_bf16_model_trains_fp32_adapters_on_bf16_inputs(tiny, settings, store, tmp_path):
    from peft.tuners.tuners_utils import BaseTunerLayer

    model, tokenizer = load_uncached(tiny, settings, device="cpu", dtype=torch.bfloat16)
    config = TrainConfig(max_steps=2, batch_size=2, learning_rate=1e-2, save_steps=100, device="cpu")
    seen = []
    result = trainers.train(tiny, "dpo", examples_for(store, "dpo"), config, tmp_path / "run", settings=settings, model=model,
                            tokenizer=tokenizer, on_step=lambda *_: seen.append(
                                [m.cast_input_dtype_enabled for m in model.modules() if isinstance(m, BaseTunerLayer)]))
    assert seen[-1] and not any(seen[-1])  # no casts while training
    layers = [m for m in model.modules() if isinstance(m, BaseTunerLayer)]
    assert all(m.cast_input_dtype_enabled for m in layers)  # back after it: the model runs without autocast
    logits(model.eval(), tokenizer)
    lora = {n: p for n, p in model.named_parameters() if "lora_" in n}
    assert all(p.dtype == torch.float32 for p in lora.values())  # weights and optimizer state stay fp32
    assert any(p.abs().max() > 0 for n, p in lora.items() if "lora_B" in n)
    assert math.isfinite(result.metrics["loss"])


def test_default_schedule_learns_from_the_first_step(tiny, settings, store, tmp_path):
    # a warmup starts transformers' schedules at rate 0: with the old 10% default, a 1-step job learned nothing
    model, tokenizer = load_uncached(tiny, settings, device="cpu")
    config = TrainConfig(max_steps=1, batch_size=2, learning_rate=1e-2, save_steps=100, device="cpu")
    trainers.train(tiny, "dpo", examples_for(store, "dpo"), config, tmp_path / "run", settings=settings, model=model, tokenizer=tokenizer)
    assert any(p.abs().max() > 0 for n, p in model.named_parameters() if "lora_B" in n)


def test_loss_weights_reach_trl_one_per_loss(tiny, settings, store, tmp_path):
    with pytest.raises(UserError, match="one loss weight per loss"):
        TrainConfig(loss_type="robust,sft", loss_weights="1").validate()
    with pytest.raises(UserError, match="must be numbers"):
        TrainConfig(loss_type="robust,sft", loss_weights="1,x").validate()
    assert TrainConfig(loss_type="robust,sft", loss_weights=" ").validate().weights() is None
    model, tokenizer = load_uncached(tiny, settings, device="cpu")
    config = TrainConfig(loss_type="sigmoid,sft", loss_weights="1,4", max_steps=1, batch_size=2, device="cpu").validate()
    trainer = trainers.build_trainer("dpo", model, tokenizer, examples_for(store, "dpo"), config, tmp_path / "run", "cpu")
    assert trainer.args.loss_type == ["sigmoid", "sft"] and trainer.args.loss_weights == [1.0, 4.0]
