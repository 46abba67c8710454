"""The prompt QMD sends, and getting the query back out of a prompt."""

from __future__ import annotations

import re

INSTRUCTION = "Expand this search query:"
NO_THINK = "/no_think"

_MARKUP = re.compile(r"<\|im_start\|>\s*\w*|<\|im_end\|>|<\|endoftext\|>|<think>\s*</think>")


# QMD asks its expansion model through node-llama-cpp's LlamaChatSession and gives it no
# system prompt, so node-llama-cpp puts its own default in the conversation's first turn
# (defaultChatSystemPrompt, node-llama-cpp 3.x, as QMD 2.8.3 installs it; every chat wrapper
# but Mistral's renders it). A model trained without that turn meets it first in QMD.
SYSTEM_PROMPT = (
    "You are a helpful, respectful and honest assistant. Always answer as helpfully as "
    "possible.\nIf a question does not make any sense, or is not factually coherent, explain "
    "why instead of answering something incorrectly. If you don't know the answer to a "
    "question, don't share false information."
)


def user_message(query: str) -> str:
    """The user turn QMD sends to the expansion model."""
    return f"{NO_THINK} {INSTRUCTION} {query}"


def conversation(query: str) -> list[dict[str, str]]:
    """The conversation QMD's expansion call has when the model starts to answer: the
    system turn node-llama-cpp adds, then QMD's user turn.

    >>> [m["role"] for m in conversation("ssh keys")]
    ['system', 'user']
    """
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_message(query)},
    ]


def extract_query(prompt: str) -> str:
    """The query inside a user message or a fully templated prompt.

    Takes the text after the last ``Expand this search query:``, up to the end of that turn,
    without chat markup; a prompt without the instruction is taken to be the query itself.
    """
    text = prompt
    if INSTRUCTION in text:
        text = text.rsplit(INSTRUCTION, 1)[1]
        text = text.split("<|im_end|>", 1)[0]
    text = _MARKUP.sub(" ", text).replace(NO_THINK, " ")
    return " ".join(text.split())
