"""``POST /v1/content/generations``: an article from a topic, which OpenAI has no endpoint for.

Request (JSON): ``topic`` (required, at most 500 characters), ``model``, ``word_count``
(50..5000, default 600), ``tone`` (one of :data:`CONTENT_TONES`, default informative),
``keywords`` (a list of strings or one comma-separated string; at most 20), ``language`` (a
code of :data:`~aiadmin.unified.content.CONTENT_LANGUAGES`, default en), ``stream``.

Answer: ``{"id", "object": "content.generation", "created", "model", "title",
"meta_description", "body", "keywords", "markdown", "usage"}``. Streamed: chunks
``{"id", "object": "content.generation.chunk", "created", "model", "delta": {"content"}}``,
then that same whole object (parsed from the joined text), then ``data: [DONE]``.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiadmin.adapters.types import Usage
from aiadmin.unified.content import CONTENT_LANGUAGES
from aiadmin.unified.results import Article

from .body import bool_field, int_field, text_field
from .chat import usage_body
from .errors import bad_request

MAX_TOPIC_CHARS = 500
MIN_WORDS, MAX_WORDS, DEFAULT_WORDS = 50, 5000, 600
MAX_KEYWORDS = 20
MAX_KEYWORD_CHARS = 100
# The console's tones (aiadmin/console/views/content.py TONES; a test keeps the two the same).
CONTENT_TONES = ("informative", "friendly", "formal", "persuasive", "playful", "technical")
LANGUAGE_CODES = tuple(code for code, _ in CONTENT_LANGUAGES)


@dataclass(frozen=True, slots=True)
class ContentParams:
    topic: str
    word_count: int
    tone: str
    keywords: tuple[str, ...]
    language: str
    stream: bool


def keywords_split(text: str) -> list[str]:
    """Comma separated keywords (the Latin or the Arabic-script comma), as the console splits them."""
    return re.split("[,\u060c]", text)


def _keywords(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        parts = keywords_split(value)
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        parts = value
    else:
        raise bad_request("“keywords” must be a list of strings or one comma-separated string.", param="keywords")
    seen: dict[str, str] = {}  # trimmed, without blanks or repeats (the first spelling wins)
    for part in parts:
        keyword = " ".join(part.split())
        if len(keyword) > MAX_KEYWORD_CHARS:
            raise bad_request(f"A keyword is too long: at most {MAX_KEYWORD_CHARS} characters.", param="keywords")
        if keyword and keyword.lower() not in seen:
            seen[keyword.lower()] = keyword
    if len(seen) > MAX_KEYWORDS:
        raise bad_request(f"Use at most {MAX_KEYWORDS} keywords.", param="keywords")
    return tuple(seen.values())


def _lowered(value: Any) -> Any:
    return value.strip().lower() if isinstance(value, str) else value


def content_params_read(data: dict[str, Any]) -> ContentParams:
    tone = _lowered(data.get("tone"))
    if tone is not None and tone not in CONTENT_TONES:
        raise bad_request(f"“tone” must be one of: {', '.join(CONTENT_TONES)}.", param="tone")
    language = _lowered(data.get("language"))
    if language is not None and language not in LANGUAGE_CODES:
        raise bad_request(f"“language” must be one of: {', '.join(LANGUAGE_CODES)}.", param="language")
    return ContentParams(
        topic=text_field(data, "topic", required=True, max_length=MAX_TOPIC_CHARS).strip(),
        word_count=int_field(data, "word_count", minimum=MIN_WORDS, maximum=MAX_WORDS, default=DEFAULT_WORDS),
        tone=tone or CONTENT_TONES[0],
        keywords=_keywords(data.get("keywords")),
        language=language or "en",
        stream=bool_field(data, "stream"),
    )


class ContentBodies:
    """The answer and the stream's chunks: all share the id, ``created`` and model."""

    def __init__(self, *, model: str) -> None:
        self.base = {"id": f"content-{secrets.token_hex(12)}", "created": int(time.time()), "model": model}

    def chunk(self, text: str) -> dict[str, Any]:
        return {**self.base, "object": "content.generation.chunk", "delta": {"content": text}}

    def whole(self, *, article: Article, usage: Usage) -> dict[str, Any]:
        return {
            **self.base,
            "object": "content.generation",
            "title": article.title,
            "meta_description": article.meta_description,
            "body": article.body,
            "keywords": list(article.keywords),
            "markdown": article.markdown,
            "usage": usage_body(usage),
        }
