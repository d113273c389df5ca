"""A job's peak memory counts from its reset, not from what the process held before."""

import torch

from training import peak_memory


def touched(n_bytes: int) -> torch.Tensor:
    return torch.ones(n_bytes // 4, dtype=torch.float32)  # ones: the pages are really written


def test_the_peak_counts_from_the_reset():
    peak_memory.reset()  # the mark may sit above what the process holds now (earlier tests)
    before = peak_memory.peak_gb()["rss"]
    big = touched(800 * 2**20)
    high = peak_memory.peak_gb()["rss"]
    assert high > before + 0.7
    del big
    peak_memory.reset()
    small = touched(100 * 2**20)
    after = peak_memory.peak_gb()["rss"]
    assert after < high - 0.5  # the 800 MB freed before the reset no longer count
    assert after >= small.numel() * 4 / 2**30
