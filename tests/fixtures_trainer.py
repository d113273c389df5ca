"""Helpers for the trainer tests: a tiny random chat model on disk, a task with outputs, votes."""

from __future__ import annotations

from pathlib import Path

from feedback import assignment
from storage import outputs, tasks
from tests.fixtures_annotation import make_pairs, make_task, make_users

CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def make_tiny_model(path: Path) -> str:
    """Save a tiny random Qwen2 model with a byte-level chat tokenizer in `path`; returns it as a model spec."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    if (path / "config.json").is_file():
        return str(path)
    alphabet = sorted(pre_tokenizers.ByteLevel.alphabet())
    tok = Tokenizer(models.BPE(vocab={c: i for i, c in enumerate(alphabet)}, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|pad|>", additional_special_tokens=["<|im_start|>"]
    )
    tokenizer.chat_template = CHAT_TEMPLATE
    config = Qwen2Config(
        vocab_size=len(tokenizer), hidden_size=8, num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
        intermediate_size=32, max_position_embeddings=1024, eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    import torch

    torch.manual_seed(0)
    Qwen2ForCausalLM(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return str(path)


def preference_examples(n: int = 8) -> list[dict]:
    """n plain preference examples (pirate answer chosen over a plain one)."""
    return [
        {"id": i, "prompt": f"Question {i}?", "chosen": "Arr matey, " * (1 + i % 3) + "aye.", "rejected": f"Plain answer {i}.", "agreement": 1.0}
        for i in range(n)
    ]


def task_with_outputs(store, name: str = "toy", n: int = 6, votes_wanted: int = 1) -> int:
    """A task whose n train prompts each have an icl-refine and a weak output, paired; returns the task id."""
    task_id = make_task(store, name)
    make_pairs(store, task_id, n, votes_wanted=votes_wanted, texts=lambda i, s: ("Arr, answer {} be right." if s == "icl-refine" else "Answer {} maybe.").format(i))
    return task_id


def vote_all(store, task_id: int, n_users: int, choice: str = "a", prefix: str = "ann") -> None:
    """Every one of n_users new annotators votes `choice` ('a' or 'b', pair terms) on every pair of the task."""
    for user_id in make_users(store, n_users, prefix=prefix):
        while (view := assignment.next_pair(store, user_id, task_id, timeout_s=600)) is not None:
            left_is_choice = (choice == "b") == view["swapped"]
            assignment.submit(store, user_id, view["pair_id"], "A is better" if left_is_choice else "B is better")


def add_output(store, task_id: int, prompt_id: int, strategy: str, text: str) -> int:
    """One more output of `strategy` for a prompt."""
    return outputs.add_output(store, task_id, prompt_id, "m", strategy, {"v": text}, 0, text)


def prompt_ids(store, task_name: str) -> list[int]:
    """Ids of a task's prompts in import order."""
    task = tasks.get_task(store, task_name)
    return [p["id"] for p in tasks.list_prompts(store, task["prompt_set"])]
