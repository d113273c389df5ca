"""The batched generator on a tiny random model: batching, order, seeds, EOS, streaming, backends."""

from __future__ import annotations

import importlib.util

import pytest
import torch

from settings import Settings
from storage.errors import UserError
from tests.tiny import tiny_model_dir  # noqa: F401  (fixture)
from models import chat, generation
from models.chat import encode
from models.generation import GenParams, Generator, decode, generate, longest_first
from models.loading import load

QUESTIONS = [
    "hi",
    "What is the capital of France?",
    "Explain like a pirate why the sea is salty, in a few long sentences please.",
    "7 times 8?",
    "She is a doctor. Tell me about her day at the hospital and her patients.",
    "ok",
]
CONVERSATIONS = [[{"role": "user", "content": q}] for q in QUESTIONS]


@pytest.fixture(scope="module")
def tiny(tiny_model_dir, tmp_path_factory):  # noqa: F811
    return load(str(tiny_model_dir), Settings(home=tmp_path_factory.mktemp("home")), device="cpu")


def test_params_to_dict_holds_every_field():
    assert GenParams(max_new_tokens=12).to_dict() == {
        "max_new_tokens": 12, "temperature": 0.0, "top_p": 1.0, "seed": 0, "batch_size": 32, "repetition_penalty": 1.15}


@pytest.mark.parametrize("bad", [{"max_new_tokens": 0}, {"temperature": -1}, {"top_p": 0}, {"top_p": 1.5}, {"batch_size": 0}])
def test_params_refuse_nonsense(bad):
    with pytest.raises(UserError):
        GenParams(**bad)


def test_longest_prompts_are_admitted_first():
    assert longest_first([5, 1, 9, 3, 9]) == [2, 4, 0, 3, 1]


def test_batched_greedy_matches_model_generate_one_by_one_in_order(tiny):
    model, tokenizer = tiny
    params = GenParams(max_new_tokens=12, batch_size=4, repetition_penalty=1.0)
    batched = generate(model, tokenizer, CONVERSATIONS, params)
    reference = []
    for conv in CONVERSATIONS:
        ids = torch.tensor([encode(tokenizer, conv)])
        out = model.generate(input_ids=ids, attention_mask=torch.ones_like(ids), max_new_tokens=12, do_sample=False)
        reference.append(tokenizer.decode(out[0, ids.shape[1] :], skip_special_tokens=True))
    assert batched == reference
    assert len(set(batched)) > 1  # the prompts really got different answers
    assert generate(model, tokenizer, CONVERSATIONS, GenParams(max_new_tokens=12, batch_size=1, repetition_penalty=1.0)) == batched


def test_order_follows_the_input(tiny):
    model, tokenizer = tiny
    params = GenParams(max_new_tokens=8, batch_size=3)
    forward = generate(model, tokenizer, CONVERSATIONS, params)
    backward = generate(model, tokenizer, CONVERSATIONS[::-1], params)
    assert backward == forward[::-1]


def test_sampling_is_reproducible_per_seed_and_independent_of_batching(tiny):
    model, tokenizer = tiny
    sample = GenParams(max_new_tokens=10, temperature=1.0, top_p=0.9, seed=3, batch_size=4)
    first = generate(model, tokenizer, CONVERSATIONS, sample)
    assert generate(model, tokenizer, CONVERSATIONS, sample) == first
    assert generate(model, tokenizer, CONVERSATIONS, GenParams(**{**sample.to_dict(), "batch_size": 1})) == first
    assert generate(model, tokenizer, CONVERSATIONS, GenParams(**{**sample.to_dict(), "seed": 4})) != first
    assert first != generate(model, tokenizer, CONVERSATIONS, GenParams(max_new_tokens=10))


def test_decoding_stops_at_eos_and_at_max_new_tokens(tiny):
    model, tokenizer = tiny
    prompts = [encode(tokenizer, c) for c in CONVERSATIONS[:3]]
    pad = tokenizer.pad_token_id
    free = decode(model, prompts, GenParams(max_new_tokens=10), pad, stop=set())
    assert [len(ids) for ids in free] == [10, 10, 10]
    stop_token = free[1][3]  # pretend the 4th token of the second answer is EOS
    stopped = decode(model, prompts, GenParams(max_new_tokens=10), pad, stop={stop_token})
    for full, cut in zip(free, stopped):
        expected = full[: full.index(stop_token)] if stop_token in full else full
        assert cut == expected
    assert len(stopped[1]) <= 3


def test_prompts_joining_a_running_batch_get_the_same_answers(tiny, monkeypatch):
    """Continuous batching: rows that finish early are replaced mid-run, and nothing changes."""
    model, tokenizer = tiny
    prompts = [encode(tokenizer, c) for c in CONVERSATIONS]
    pad = tokenizer.pad_token_id
    free = decode(model, prompts, GenParams(max_new_tokens=12, batch_size=1), pad, stop=set())
    # a stop token that ends the answers at different steps, so slots free up at different times
    stop = {free[0][2], free[3][5]}
    alone = decode(model, prompts, GenParams(max_new_tokens=12, batch_size=1), pad, stop=stop)
    assert len({len(ids) for ids in alone}) > 2
    merges = []
    real_extend = generation._Batch.extend
    monkeypatch.setattr(generation._Batch, "extend", lambda self, other: merges.append(len(other.rows)) or real_extend(self, other))
    finished = []
    together = decode(model, prompts, GenParams(max_new_tokens=12, batch_size=2), pad, stop=stop, order=longest_first([len(p) for p in prompts]), on_finish=lambda row, _ids: finished.append(row))
    assert together == alone
    assert merges and sorted(finished) == list(range(len(prompts)))


def test_stream_yields_growing_text_ending_in_the_generated_answer(tiny):
    model, tokenizer = tiny
    params = GenParams(max_new_tokens=12)
    pieces = list(Generator(model, tokenizer).stream(CONVERSATIONS[2], params))
    assert len(pieces) > 1
    assert all(b.startswith(a) for a, b in zip(pieces, pieces[1:]))
    assert pieces[-1] == generate(model, tokenizer, [CONVERSATIONS[2]], params)[0]


def test_raw_prompt_strings_skip_the_chat_template(tiny):
    model, tokenizer = tiny
    assert encode(tokenizer, "hi") == tokenizer("hi", add_special_tokens=False)["input_ids"]
    assert len(generate(model, tokenizer, ["The capital of France is"], GenParams(max_new_tokens=4))) == 1


def test_a_final_assistant_message_is_continued_and_begins_the_answer(tiny):
    model, tokenizer = tiny
    opened = CONVERSATIONS[1] + [{"role": "assistant", "content": "Think of it as"}]
    rendered = chat.render(tokenizer, opened)
    assert rendered.endswith("Think of it as") and rendered.startswith(chat.render(tokenizer, CONVERSATIONS[1]))
    assert encode(tokenizer, CONVERSATIONS[1]) == list(
        tokenizer.apply_chat_template(CONVERSATIONS[1], add_generation_prompt=True, tokenize=True, return_dict=True)["input_ids"])
    params = GenParams(max_new_tokens=6)
    answer = generate(model, tokenizer, [opened], params)[0]
    continued = tokenizer.decode(decode(model, [encode(tokenizer, opened)], params, tokenizer.pad_token_id or 0,
                                        chat.eos_ids(model, tokenizer))[0], skip_special_tokens=True)
    assert answer == "Think of it as" + continued and continued
    assert list(Generator(model, tokenizer).stream(opened, params))[-1] == answer


def test_vllm_backend_is_refused_cleanly_when_unavailable(tiny, monkeypatch):
    model, tokenizer = tiny
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "vllm" else real(name, *a))
    assert not generation.vllm_available()
    assert Generator(model, tokenizer).backend == "transformers"
    with pytest.raises(UserError, match="vllm"):
        Generator(model, tokenizer, backend="vllm")


def test_repetition_penalty_lowers_the_logits_of_tokens_already_in_the_answer():
    import torch

    from models.generation import penalize_repeats

    logits = torch.tensor([[2.0, -1.0, 3.0], [2.0, -1.0, 3.0]])
    out = penalize_repeats(logits, [[0, 1, 1], []], 2.0)
    assert out.tolist() == [[1.0, -2.0, 3.0], [2.0, -1.0, 3.0]]  # seen: positive halved, negative doubled
    assert logits[0, 0] == 2.0  # the input is left alone
    assert "repetition_penalty" not in GenParams(repetition_penalty=1.0).to_dict()  # off: stored keys stay as they were
    assert GenParams(repetition_penalty=1.2).to_dict()["repetition_penalty"] == 1.2
    with pytest.raises(UserError, match="repetition_penalty"):
        GenParams(repetition_penalty=0.9)


def test_repetition_penalty_changes_greedy_answers_of_a_model_that_repeats(tiny):
    model, tokenizer = tiny
    plain = generate(model, tokenizer, CONVERSATIONS, GenParams(max_new_tokens=24, batch_size=4))
    penalized = generate(model, tokenizer, CONVERSATIONS, GenParams(max_new_tokens=24, batch_size=4, repetition_penalty=5.0))
    assert penalized != plain
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in penalized]
    plain_ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in plain]
    assert sum(len(set(i)) / max(1, len(i)) for i in ids) > sum(len(set(i)) / max(1, len(i)) for i in plain_ids)

