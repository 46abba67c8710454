"""Chat templates: a Qwen3-style one for the tiny model, plain ChatML, and what a template does.

The model's tokenizer renders every prompt (training, generation, ``try``: see
:func:`trainers.generation.render_prompt`); this module only supplies templates and describes
them, and the manifest records that description for each trained stage.

The Qwen3-style template renders what Qwen3's own template renders for QMD's conversations
(system, user and assistant turns, ``enable_thinking=False`` adding an empty think block to
the generation prompt, the empty think block in front of the last assistant turn), and it
marks the assistant's answer with ``{% generation %}`` so ``assistant_only_loss`` works too.
Tools are not supported: an expansion model never calls them.
"""

from __future__ import annotations

from typing import Any

QWEN3_STYLE_TEMPLATE = (
    "{%- set ns = namespace(last_query=-1) %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'user' %}{%- set ns.last_query = loop.index0 %}{%- endif %}"
    "{%- endfor %}"
    "{%- for message in messages %}"
    "{%- set content = message.content if message.content is string else '' %}"
    "{%- if message.role == 'assistant' %}"
    "{%- set reasoning = '' %}"
    "{%- if '</think>' in content %}"
    "{%- set reasoning = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1]"
    ".lstrip('\\n') %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}"
    "{%- endif %}"
    "{{- '<|im_start|>assistant\\n' }}"
    # Qwen3 writes the (possibly empty) think block only on turns after the last user query.
    "{%- if loop.index0 > ns.last_query and (loop.last or reasoning) %}"
    "{{- '<think>\\n' + reasoning.strip('\\n') + '\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- generation %}{{- content.lstrip('\\n') + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}"
    "{{- '<think>\\n\\n</think>\\n\\n' }}"
    "{%- endif %}"
    "{%- endif %}"
)

# Plain ChatML (SmolLM2's format) without a default system line: SmolLM2's own template inserts
# "You are a helpful AI assistant named SmolLM..." whenever the conversation has no system
# turn. Chosen with ``chat_template: chatml``; marks the answer for ``assistant_only_loss``.
CHATML_TEMPLATE = (
    "{%- for message in messages %}"
    "{%- set content = message.content if message.content is string else '' %}"
    "{%- if message.role == 'assistant' %}"
    "{{- '<|im_start|>assistant\\n' }}"
    "{%- generation %}{{- content + '<|im_end|>' }}{%- endgeneration %}"
    "{{- '\\n' }}"
    "{%- else %}"
    "{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}"
    "{%- endif %}"
    "{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}"
)

# ``chat_template`` in a config: "model" keeps the model's own template, a name picks one.
MODEL_TEMPLATE = "model"
TEMPLATES = {"qwen3": QWEN3_STYLE_TEMPLATE, "chatml": CHATML_TEMPLATE}
_PROBE = "QUERY-PROBE"


def template_sha256(text: str | None) -> str | None:
    import hashlib

    return None if text is None else hashlib.sha256(text.encode()).hexdigest()


def describe_template(tokenizer: Any) -> dict[str, Any]:
    """What a tokenizer's chat template does to QMD's one-turn prompt, for the manifest.

    Found by rendering, not by reading the template: ``default_system`` is the system turn
    it inserts on its own (SmolLM2's "You are a helpful AI assistant named SmolLM..."),
    ``thinking`` whether ``enable_thinking`` changes the prompt (Qwen3's empty think block;
    SmolLM2's template ignores it, so its prompt never has one).
    """
    text = getattr(tokenizer, "chat_template", None)
    if not isinstance(text, str):
        return {"sha256": None, "family": "none", "default_system": None, "thinking": False}
    from .generation import CHAT_TEMPLATE_KWARGS

    def render(**kwargs: Any) -> str:
        return tokenizer.apply_chat_template(
            [{"role": "user", "content": _PROBE}],
            tokenize=False,
            add_generation_prompt=True,
            **kwargs,
        )

    prompt = render(**CHAT_TEMPLATE_KWARGS)
    head = prompt.split(_PROBE)[0]
    system = None
    if "system" in head:
        # The inserted turn's text: between the role header and the end of the turn.
        body = head.split("system", 1)[1]
        system = body.split("<|im_end|>")[0].strip() or None
    thinking = render(enable_thinking=True) != prompt
    family = "qwen3" if thinking else ("chatml" if "<|im_start|>" in prompt else "other")
    name = next((n for n, t in TEMPLATES.items() if t == text), MODEL_TEMPLATE)
    return {
        "name": name,
        "family": family,
        "sha256": template_sha256(text),
        "default_system": system,
        "thinking": thinking,
    }


def choose_template(tokenizer: Any, choice: str) -> None:
    """Apply a config's ``chat_template`` choice to the tokenizer that training saves."""
    if choice == MODEL_TEMPLATE:
        if not isinstance(getattr(tokenizer, "chat_template", None), str):
            raise ValueError(
                "the model has no chat template; set chat_template to one of "
                + ", ".join(sorted(TEMPLATES))
            )
        return
    if choice not in TEMPLATES:
        raise ValueError(
            f"chat_template: unknown {choice!r} (use {MODEL_TEMPLATE!r} or one of "
            + ", ".join(sorted(TEMPLATES))
            + ")"
        )
    tokenizer.chat_template = TEMPLATES[choice]
