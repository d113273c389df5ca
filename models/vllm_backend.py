"""The optional vLLM backend of models.generation.Generator: the same contract as the transformers loop,
used when vllm is importable and the model sits on a CUDA GPU.
"""

from __future__ import annotations

from typing import Sequence

import torch

from models.chat import Conversation, opening, render
from models.gen_params import GenParams


def vllm_available() -> bool:
    """Whether the optional vLLM backend can run here: vllm importable and a CUDA GPU present."""
    import importlib.util

    return importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()


def vllm_generate(model, tokenizer, conversations: Sequence[Conversation], params: GenParams) -> list[str]:
    """The same contract on vLLM, which loads the weights from the model's directory itself."""
    from vllm import LLM, SamplingParams  # only reached when vllm_available()

    path = model.refinery_weights_dir
    llm = _vllm_engines.get(path)
    if llm is None:
        llm = _vllm_engines[path] = LLM(model=path, dtype="bfloat16", seed=params.seed)
    prompts = [render(tokenizer, c) for c in conversations]
    sampling = SamplingParams(
        temperature=params.temperature, top_p=params.top_p, max_tokens=params.max_new_tokens, seed=params.seed,
        repetition_penalty=params.repetition_penalty,
    )
    return [opening(c) + o.outputs[0].text for c, o in zip(conversations, llm.generate(prompts, sampling, use_tqdm=False))]


_vllm_engines: dict[str, object] = {}  # one engine per weight directory and process; building one takes minutes
