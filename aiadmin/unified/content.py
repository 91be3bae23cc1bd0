"""Content generation is built on chat: a prompt that asks for a Markdown article, and a
parser that splits the answer into title, meta description, body and keywords."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aiadmin.adapters.types import ChatMessage

from .results import Article

CONTENT_SYSTEM_PROMPT = (
    "You are a professional writer. Write the article in Markdown, in the requested language "
    "and tone. The first line is the title as '# Title'. The second line is "
    "'Meta description: ' followed by one sentence of at most 160 characters. Then the body "
    "with '## ' section headings. Use every keyword naturally. Stay close to the word count."
)


def content_messages(
    *, topic: str, word_count: int, tone: str, keywords: Sequence[str], language: str
) -> tuple[ChatMessage, ...]:
    lines = [
        f"Topic: {topic.strip()}",
        f"Word count: {word_count}",
        f"Tone: {tone.strip() or 'neutral'}",
        f"Keywords: {', '.join(k.strip() for k in keywords if k.strip())}",
        f"Language: {language.strip() or 'en'}",
    ]
    return (ChatMessage("system", CONTENT_SYSTEM_PROMPT), ChatMessage("user", "\n".join(lines)))


_META = re.compile(r"^\s*\**meta description\**\s*:\s*(.+)$", re.I)


def article_parse(markdown: str, *, keywords: Sequence[str] = ()) -> Article:
    """Split a generated article; tolerant of models that put the parts slightly differently."""
    title = ""
    meta = ""
    body_lines: list[str] = []
    for line in markdown.strip().splitlines():
        if not title and line.startswith("# "):
            title = line[2:].strip()
            continue
        match = _META.match(line)
        if not meta and match:
            meta = match.group(1).strip()
            continue
        body_lines.append(line)
    body = "\n".join(body_lines).strip()
    if not title:
        first = next((line for line in body_lines if line.strip()), "")
        title = first.lstrip("#").strip()[:120]
    return Article(
        title=title,
        meta_description=meta[:160],
        body=body,
        keywords=tuple(k.strip() for k in keywords if k.strip()),
        markdown=markdown.strip(),
    )
