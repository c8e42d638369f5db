"""A conversation as the token ids a model is trained on, with the assistant-only loss mask.

The text comes from a **chat template**: the Jinja ``chat_template`` of a Hugging Face model
directory on disk (``tokenizer_config.json``, or ``chat_template.jinja`` beside it), rendered
the way ``transformers`` does (sandboxed, ``trim_blocks``/``lstrip_blocks``, ``raise_exception``,
``bos_token``/``eos_token``), or, with a bare ``tokenizer.json``, the ChatML layout
``<|im_start|>{role}\\n{content}<|im_end|>\\n``. Nothing is downloaded.

Which tokens are trained on: render the conversation one message longer at a time; message
``i`` owns the text the rendering grew by. In an assistant message's text, everything from its
content onwards (the content and the end-of-turn markup after it) has mask 1, the role header
before it 0; every other message is 0. Tokens are mapped to characters through the tokenizer's
offsets, so the mask is exact for any tokenizer. Needs ``jinja2`` for model templates
(``pip install 'winnow[chat]'``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from winnow.errors import WinnowError

CHATML = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"


def _token_text(value: Any) -> str | None:
    if isinstance(value, dict):
        return value.get("content")
    return value if isinstance(value, str) else None


@dataclass
class ChatTokenizer:
    """A tokenizer and the chat template that goes with it."""

    tokenizer: Any  # tokenizers.Tokenizer
    template: Any  # a compiled jinja2 template, or None for ChatML
    special: dict[str, str | None]
    path: str

    @classmethod
    def load(cls, path: str | Path) -> ChatTokenizer:
        """A model directory (``tokenizer.json`` + ``tokenizer_config.json``) or a ``tokenizer.json``."""
        from winnow.extras import require

        require("chat templates (preflight, sft-packed)", ["tokenizers", "jinja2"], "chat")
        from tokenizers import Tokenizer

        path = Path(path)
        directory = path if path.is_dir() else path.parent
        tokenizer_file = path / "tokenizer.json" if path.is_dir() else path
        if not tokenizer_file.is_file():
            raise WinnowError(f"{path}: no tokenizer.json")
        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        config_file = directory / "tokenizer_config.json"
        config = json.loads(config_file.read_text()) if config_file.is_file() else {}
        source = config.get("chat_template")
        if isinstance(source, list):  # named templates: the default one
            named = {t.get("name"): t.get("template") for t in source if isinstance(t, dict)}
            source = named.get("default") or next(iter(named.values()), None)
        if source is None and (directory / "chat_template.jinja").is_file():
            source = (directory / "chat_template.jinja").read_text()
        if source is None and path.is_dir():
            raise WinnowError(f"{directory}: no chat_template in tokenizer_config.json (nor chat_template.jinja)")
        special = {k: _token_text(config.get(k)) for k in ("bos_token", "eos_token", "pad_token", "unk_token")}
        return cls(tokenizer, _compile(source) if source else None, special, str(path))

    def render(self, messages: list[dict], tools: Any = None) -> str:
        if self.template is None:
            return "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return self.template.render(
            messages=messages, tools=tools, add_generation_prompt=False, **{k: v or "" for k, v in self.special.items()}
        )

    def encode(self, messages: list[dict], tools: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(token ids, loss mask) of one conversation; see the module doc."""
        shown = [_template_message(m) for m in messages]
        text = self.render(shown, tools)
        trained = np.zeros(len(text) + 1, dtype=np.int32)  # +1/-1 at span edges, then a running sum
        end = 0
        for i, m in enumerate(shown):
            grown = self.render(shown[: i + 1], tools) if i + 1 < len(shown) else text
            start, end = end, len(grown)
            if m["role"] == "assistant":
                found = text.find(m["content"], start, end) if m["content"] else -1
                begin = found if found >= 0 else start
                trained[begin] += 1
                trained[end] -= 1
        trained = np.cumsum(trained[:-1]) > 0
        encoding = self.tokenizer.encode(text, add_special_tokens=False)
        ids = np.asarray(encoding.ids, dtype=np.int64)
        # A token is trained on when the text it covers starts inside a trained span.
        starts = np.fromiter((a for a, _ in encoding.offsets), dtype=np.int64, count=len(ids))
        mask = trained[np.minimum(starts, max(len(text) - 1, 0))] if len(text) else np.zeros(len(ids), bool)
        return ids, mask.astype(np.uint8)


def _template_message(m: dict) -> dict:
    """What a chat template sees of a message: role and content, tool calls as a list when set."""
    out: dict[str, Any] = {"role": m["role"], "content": m["content"]}
    if m.get("name"):
        out["name"] = m["name"]
    if m.get("tool_calls"):
        out["tool_calls"] = json.loads(m["tool_calls"])
    if m.get("tool_call_id"):
        out["tool_call_id"] = m["tool_call_id"]
    return out


def _compile(source: str) -> Any:
    from jinja2 import TemplateError
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    def raise_exception(message: str) -> None:
        raise TemplateError(message)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    env.filters["tojson"] = lambda value, indent=None: json.dumps(value, indent=indent, ensure_ascii=False)
    env.globals["raise_exception"] = raise_exception
    try:
        return env.from_string(source)
    except TemplateError as error:
        raise WinnowError(f"the chat template does not compile: {error}") from None
