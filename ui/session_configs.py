"""Per-session component configs built when asked for, not for every component at a session's first call.

Gradio (6.31, pinned) creates a SessionState for each new browser session on its first request,
on the server's event loop, and its __init__ builds the config of every one of the app's blocks
(about 220 here: every tab's components) for deep links, which Refinery does not use. That took
12 ms per session on an idle CPU and, with 500 annotators opening the app at once, held the event
loop long enough to put p99 vote latency at seconds (bench/votes.py, py-spy profile: 42% of the
server's busy samples), and every event's outputs then built their blocks' configs on the event
loop to record the new values. `install()` gives SessionState a mapping that builds a block's
config the first time something reads it, with the values recorded meanwhile; Gradio's own
readers (deep links) see the same configs as before.
"""

from __future__ import annotations

import os
from copy import copy

from gradio import state_holder


class LazyConfigs(dict):
    """block id -> config_for_block, each built on first read from the session's blocks config."""

    def __init__(self, blocks_config, ids):
        super().__init__()
        self._blocks_config = blocks_config
        self._pending = set(ids)
        self._values = {}  # value updates to pending blocks, applied when their config is built

    def _build(self, key):
        self._pending.discard(key)
        value = self._blocks_config.config_for_block(key, [], self._blocks_config.blocks[key])
        if key in self._values and "props" in value:
            value["props"]["value"] = self._values.pop(key)
        super().__setitem__(key, value)
        return value

    def defer_value(self, key, value) -> bool:
        """Keep a value update for a block whose config is not built yet; False if it is built."""
        if key not in self._pending:
            return False
        self._values[key] = value
        return True

    def __missing__(self, key):
        if key in self._pending:
            return self._build(key)
        raise KeyError(key)

    def __contains__(self, key):
        return super().__contains__(key) or key in self._pending

    def __setitem__(self, key, value):
        self._pending.discard(key)
        super().__setitem__(key, value)

    def _build_all(self) -> None:
        for key in sorted(self._pending):
            self._build(key)

    def items(self):
        self._build_all()
        return super().items()

    def values(self):
        self._build_all()
        return super().values()

    def __iter__(self):
        self._build_all()
        return super().__iter__()

    def __len__(self):
        return super().__len__() + len(self._pending)


GRADIO_INIT = state_holder.SessionState.__init__
GRADIO_UPDATE_VALUE = state_holder.SessionState._update_value_in_config


def _lazy_init(self, blocks) -> None:
    # Gradio's SessionState.__init__, but config_values lazy; tests compare the two.
    self.blocks_config = copy(blocks.default_config)
    self.config_values = LazyConfigs(self.blocks_config, [k for k in self.blocks_config.blocks if k in blocks.blocks])
    self.state_data = {}
    self._state_ttl = {}
    self.is_closed = False
    self.STATE_TTL_WHEN_CLOSED = 1 if os.getenv("GRADIO_IS_E2E_TEST", None) else 3600


def _lazy_update_value(self, key, value) -> None:
    # Gradio records every output's new value in the session's config of that block; a block
    # whose config nobody has read yet keeps the value until it is built.
    if not (isinstance(self.config_values, LazyConfigs) and self.config_values.defer_value(key, value)):
        GRADIO_UPDATE_VALUE(self, key, value)


def install() -> None:
    """Make Gradio's SessionState build component configs lazily (idempotent)."""
    state_holder.SessionState.__init__ = _lazy_init
    state_holder.SessionState._update_value_in_config = _lazy_update_value
