"""A tiny random Qwen2 chat model with a local byte-level BPE tokenizer, for fast offline tests.

    from tests.tiny import make_tiny_model
    path = make_tiny_model(tmp_path)          # a directory any loader accepts as a local model spec

or, as a pytest fixture shared by a whole session:

    from tests.tiny import tiny_model_dir    # noqa: F401  (re-exported fixture)
    def test_x(tiny_model_dir): ...

The model has hidden size 8 and two layers; building and saving it takes well under a second.
Its chat template is ChatML (`<|im_start|>role\\n...<|im_end|>\\n`); EOS is `<|im_end|>`, PAD is
`<|endoftext|>`. Weights are seeded, so two calls with the same seed build the same model.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "The capital of France is Paris. The capital of Australia is Canberra.",
    "Arr matey, the sea be wide and the ship be fast!",
    "Photosynthesis turns light, water and carbon dioxide into sugar and oxygen.",
    "Explain it like a teacher: a prime number has exactly two divisors.",
    "She is a doctor; her patients trust her. He wrote a poem about the river.",
    "Question: what is 7 times 8? Answer: 56. #### 56",
    "user assistant system You are a helpful assistant.",
]
VOCAB_SIZE = 384  # 256 bytes + a few merges + specials


def make_tiny_tokenizer():
    """A PreTrainedTokenizerFast (byte-level BPE trained on a few sentences) with a ChatML template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB_SIZE,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(CORPUS, trainer=trainer)
    return PreTrainedTokenizerFast(
        tokenizer_object=bpe,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        padding_side="left",
        chat_template=CHAT_TEMPLATE,
    )


def make_tiny_model(directory: str | Path, seed: int = 0) -> Path:
    """Save a tiny random Qwen2ForCausalLM and its tokenizer into `directory`; returns the directory."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    directory = Path(directory)
    tokenizer = make_tiny_tokenizer()
    config = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=8,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
        # wide random logits: greedy choices are far from ties, so batched and single runs agree
        initializer_range=0.5,
        tie_word_embeddings=True,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=None,
    )
    torch.manual_seed(seed)
    model = Qwen2ForCausalLM(config).eval()
    model.generation_config = GenerationConfig(eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    model.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory) -> Path:
    """One tiny model directory for the whole test session (treat it as read-only)."""
    return make_tiny_model(tmp_path_factory.mktemp("tiny-model"))
