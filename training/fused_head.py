"""TRL's fused LM head, made to score only completion tokens on a CPU.

DPO needs the log-probability of each completion token only, and TRL 1.16 computes it through a
fused, tiled LM head (trl.trainer.utils.add_fused_lm_head) that never builds the full logits. On
CUDA it projects only the positions whose label is not -100; everywhere else it projects every
position, prompt and padding included, so that tile shapes stay fixed for accelerators that
recompile per shape. A CPU does not recompile, and the vocabulary projection of the 1.5B default
(151,936 x 1,536) is the largest matrix of each step: scoring the completion alone skips the
prompt's share of it, forward and backward. Which positions are scored changes no log-prob
(tests/test_fused_head.py compares both).
"""

from __future__ import annotations

import torch
import trl.trainer.utils as trl_utils

_trl_compact = trl_utils._use_triton  # TRL's answer: compact on Triton devices only


def _compact(device: torch.device) -> bool:
    return device.type == "cpu" or _trl_compact(device)


def score_completions_only() -> None:
    """Make the fused LM head of every DPO trainer in this process project completion positions only on a CPU."""
    # add_fused_lm_head reads the name at each call; the kernel's own Triton check is a separate binding
    trl_utils._use_triton = _compact


def restore() -> None:
    """TRL's own choice again (tests compare both)."""
    trl_utils._use_triton = _trl_compact
