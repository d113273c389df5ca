"""TRL's fused LM head scoring only the completion on a CPU gives the log-probs and gradients of scoring every position."""

import torch

from settings import Settings
from tests.tiny import tiny_model_dir  # noqa: F401  (fixture)
from training import fused_head
from models.loading import load_uncached


def scored(tiny_model_dir, tmp_path, compact: bool):
    """Per-token log-probs and the LM input gradient of a batch with prompt and padding masked out."""
    from trl.trainer.utils import add_fused_lm_head

    model, _ = load_uncached(str(tiny_model_dir), Settings(home=tmp_path), device="cpu", dtype=torch.float32)
    add_fused_lm_head(model)
    torch.manual_seed(0)
    ids = torch.randint(3, 300, (3, 12))
    labels = ids.clone()
    labels[:, :5] = -100  # the prompt
    labels[0, 10:] = -100  # padding of a shorter answer
    (fused_head.score_completions_only if compact else fused_head.restore)()
    try:
        out = model(input_ids=ids, labels=labels, fused_lm_head=True)
        out.log_probs.sum().backward()
    finally:
        fused_head.restore()
    grad = model.get_input_embeddings().weight.grad
    return out.log_probs.detach(), grad.clone()


def test_completion_only_scoring_changes_no_log_prob_or_gradient(tiny_model_dir, tmp_path):
    every_logp, every_grad = scored(tiny_model_dir, tmp_path, compact=False)
    only_logp, only_grad = scored(tiny_model_dir, tmp_path, compact=True)
    assert (only_logp[:, :4] == 0).all() and (only_logp[0, 9:] == 0).all()  # masked positions score 0 in both
    assert torch.allclose(only_logp, every_logp, atol=1e-5)
    assert torch.allclose(only_grad, every_grad, atol=1e-5)
    assert every_logp[1, 4:].ne(0).all()


def test_the_switch_applies_to_cpus_only_and_can_be_undone():
    fused_head.score_completions_only()
    try:
        import trl.trainer.utils as trl_utils

        assert trl_utils._use_triton(torch.device("cpu"))
    finally:
        fused_head.restore()
    assert not trl_utils._use_triton(torch.device("cpu"))
