"""Threads of their own for the Annotate tab's calls (ui/annotate_api.py), so a vote never waits behind a crowd's fetches.

In anyio's shared pool of 40 threads (where Gradio runs sync handlers) calls run first come, first served. When
hundreds of annotators open the app at once, hundreds of "next pair" calls wait for that pool,
and a vote sent meanwhile waits behind all of them (bench/votes.py: p99 vote latency at 500
annotators came from the votes cast in those first seconds). A vote is what the annotator must
see acknowledged; the next pair may come a moment later. So votes run in a lane of their own,
and fetches in a narrow lane: with few fetch threads runnable at once, a vote's thread also gets
the GIL sooner. Each lane is an anyio CapacityLimiter, made on first use (it needs the running loop).
"""

from __future__ import annotations

import functools
from typing import Any, Callable

import anyio


class Lane:
    """At most `threads` handlers of one kind running at once, in worker threads, off the event loop."""

    def __init__(self, threads: int):
        self.threads = threads
        self._limiter: anyio.CapacityLimiter | None = None

    async def run(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args) in a worker thread of this lane; waits for a free slot of the lane only."""
        if self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.threads)
        return await anyio.to_thread.run_sync(functools.partial(fn, *args), limiter=self._limiter)


VOTES = Lane(8)    # a vote is a short write; SQLite serializes the writes anyway
FETCHES = Lane(2)  # next pair, skip, page load: on 2 cores more threads only share the GIL
