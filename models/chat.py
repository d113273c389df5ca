"""Conversations as prompts: a chat rendered with the tokenizer's template (its assistant turn opened, or
continued from a final assistant message), its token ids, and the ids that end an answer.
"""

from __future__ import annotations

from storage.errors import UserError

Conversation = list[dict] | str  # chat messages [{"role", "content"}, ...], or a raw prompt string


def opening(conversation: Conversation) -> str:
    """The start a conversation forces on its answer: the text of a final assistant message, else ''."""
    if isinstance(conversation, str) or not conversation or conversation[-1]["role"] != "assistant":
        return ""
    return conversation[-1]["content"]


def render(tokenizer, conversation: Conversation) -> str:
    """A prompt as text: the chat template with the assistant turn opened (or continued from a final
    assistant message), or a raw string as is."""
    if isinstance(conversation, str):
        return conversation
    if not tokenizer.chat_template:
        raise UserError("this model's tokenizer has no chat template; pass raw prompt strings instead of messages")
    if opening(conversation):
        return tokenizer.apply_chat_template(conversation, continue_final_message=True, tokenize=False)
    return tokenizer.apply_chat_template(conversation, add_generation_prompt=True, tokenize=False)


def encode(tokenizer, conversation: Conversation) -> list[int]:
    """Token ids of a prompt (see render)."""
    return tokenizer(render(tokenizer, conversation), add_special_tokens=False)["input_ids"]


def eos_ids(model, tokenizer) -> set[int]:
    """Token ids that end an answer: the model's generation EOS ids and the tokenizer's EOS."""
    eos = model.generation_config.eos_token_id
    ids = set([eos] if isinstance(eos, int) else (eos or []))
    if tokenizer.eos_token_id is not None:
        ids.add(tokenizer.eos_token_id)
    return ids
