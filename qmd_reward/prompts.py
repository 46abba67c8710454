"""The prompt QMD sends, and getting the query back out of a prompt."""

from __future__ import annotations

import re

INSTRUCTION = "Expand this search query:"
NO_THINK = "/no_think"

_MARKUP = re.compile(r"<\|im_start\|>\s*\w*|<\|im_end\|>|<\|endoftext\|>|<think>\s*</think>")


def user_message(query: str) -> str:
    """The user turn QMD sends to the expansion model."""
    return f"{NO_THINK} {INSTRUCTION} {query}"


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
