"""One loaded copy of a base model that answers as the base or as any of its LoRA adapters.

The Demo tab streams a base model and a trained version side by side. Merging the adapter
(models.loading's way for jobs) needs a second full copy of the weights; here the adapters are
attached unmerged to one copy (PEFT), and each forward pass picks its side: the adapter switched
off (`disable_adapter()`) for the base, `set_adapter(name)` for a version. Forward passes take
turns under one lock, because the switch is state on the shared modules; two streams still
advance together, token by token.
"""

from __future__ import annotations

import threading
from pathlib import Path

from storage.errors import UserError


class AdapterHost:
    """A base model (loaded for this host alone: PEFT edits its modules) and the adapters added to it."""

    def __init__(self, model, tokenizer):
        self.base, self.tokenizer = model, tokenizer
        self.peft = None  # the PeftModel around `base`, once an adapter is added
        self.names: dict[str, str] = {}  # adapter directory -> adapter name inside the PeftModel
        self.lock = threading.Lock()

    def add(self, adapter_path: str | Path) -> str:
        """Attach a LoRA adapter directory (once); returns its name inside the host."""
        from peft import PeftModel

        path = str(Path(adapter_path).resolve())
        with self.lock:
            if path in self.names:
                return self.names[path]
            if not (Path(path) / "adapter_config.json").is_file():
                raise UserError(f"{path} is not a LoRA adapter directory (no adapter_config.json)")
            name = f"adapter{len(self.names)}"  # PEFT names must be valid module keys: no dots from paths
            if self.peft is None:
                self.peft = PeftModel.from_pretrained(self.base, path, adapter_name=name)
                self.peft.eval()
            else:
                self.peft.load_adapter(path, adapter_name=name)
            self.names[path] = name
            return name

    def view(self, adapter_path: str | Path | None = None) -> "HostedModel":
        """A model to generate with: the base (None) or the base with this adapter, sharing the weights."""
        return HostedModel(self, self.add(adapter_path) if adapter_path is not None else None)


class HostedModel:
    """Calls the host's model as one side (base or one adapter); everything else is the base model's."""

    def __init__(self, host: AdapterHost, adapter: str | None):
        self._host, self._adapter = host, adapter

    def __call__(self, *args, **kwargs):
        host = self._host
        with host.lock:
            if host.peft is None:
                return host.base(*args, **kwargs)
            if self._adapter is None:
                with host.peft.disable_adapter():
                    return host.peft(*args, **kwargs)
            host.peft.set_adapter(self._adapter)
            return host.peft(*args, **kwargs)

    def __getattr__(self, name):
        # device, config, generation_config: the base model's
        return getattr(self._host.base, name)
