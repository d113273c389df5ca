"""GenParams: the decoding settings of one generation run, with the help text the CLI's flags use.

Kept apart from models.generation (which imports torch) so that building the command line stays cheap.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from storage.errors import UserError


# The shipped seed answers (data/seed) were generated with this limit: with the same default a first
# generate run reuses them instead of mixing 128- and 256-token answers in one pair plan.
DEFAULT_MAX_NEW_TOKENS = 128
# Greedy answers of small models loop ("aye, aye, aye, ..."): without a penalty the product loop's
# candidates looped, and DPO on them taught the loops (results/loop-pirate-qwen2.5-coder-1.5b). The
# experiment's rows were measured at this penalty; the product generates and evaluates with it too.
DEFAULT_REPETITION_PENALTY = 1.15


@dataclass(frozen=True)
class GenParams:
    """Decoding settings of one generation run."""

    # the help texts are the CLI's (generate and evaluate flags derive from these fields, see confargs)
    max_new_tokens: int = field(default=DEFAULT_MAX_NEW_TOKENS, metadata={"help": "longest answer, in tokens"})  # answers longer than this are cut
    temperature: float = field(default=0.0, metadata={"help": "0 = greedy"})  # > 0: sampling
    top_p: float = field(default=1.0, metadata={"help": "nucleus sampling mass"})  # 1.0 keeps the whole distribution
    seed: int = field(default=0, metadata={"help": "sampling and ICL-example seed"})  # with temperature 0 it changes nothing
    # Prompts per forward pass: how the work is split, not what it produces. On CPU a decode step
    # is bound by reading the weights, so 32 rows cost little more than 16 (smollm2-135m: 287 vs
    # 263 ms per step) and nearly double the throughput.
    batch_size: int = field(default=32, metadata={"help": "prompts per forward pass"})
    # > 1 divides (or, when negative, multiplies) the logit of every token the answer already holds,
    # as transformers' RepetitionPenaltyLogitsProcessor does, but over the answer only. 1.0: off.
    repetition_penalty: float = field(default=DEFAULT_REPETITION_PENALTY, metadata={"help": "above 1: penalise tokens the answer already holds"})

    def __post_init__(self):
        if self.max_new_tokens < 1:
            raise UserError(f"max_new_tokens must be at least 1, got {self.max_new_tokens}")
        if self.temperature < 0:
            raise UserError(f"temperature must be 0 (greedy) or positive, got {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise UserError(f"top_p must be in (0, 1], got {self.top_p}")
        if self.batch_size < 1:
            raise UserError(f"batch_size must be at least 1, got {self.batch_size}")
        if self.repetition_penalty < 1.0:
            raise UserError(f"repetition_penalty must be at least 1 (1: off), got {self.repetition_penalty}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0

    def to_dict(self) -> dict:
        """All fields as a JSON-able dict; repetition_penalty only when on, so that outputs and
        experiment stages stored before it existed keep their keys."""
        values = dataclasses.asdict(self)
        if values["repetition_penalty"] == 1.0:
            del values["repetition_penalty"]
        return values
