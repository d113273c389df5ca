"""The peak memory of one piece of work in a long-lived process (a train job in the worker).

The process's own high-water mark (ru_maxrss) also counts what earlier jobs held, so on Linux the
mark is reset before the work starts (writing 5 to /proc/self/clear_refs resets VmHWM) and read
from /proc/self/status after. On CUDA the allocator's peak is reset and read the same way.
"""

from __future__ import annotations

import resource
from pathlib import Path

import torch


def reset() -> None:
    """Start counting the peak from what the process holds now."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass  # not Linux, or not allowed: peak_gb() falls back to the process's lifetime peak
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()


def peak_gb() -> dict[str, float]:
    """{"rss": peak resident memory in GB since reset(), "cuda": peak CUDA allocation in GB (CUDA only)}."""
    out = {"rss": _hwm_kb() / 2**20}
    if torch.cuda.is_available():
        out["cuda"] = torch.cuda.max_memory_allocated() / 2**30
    return out


def _hwm_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux
