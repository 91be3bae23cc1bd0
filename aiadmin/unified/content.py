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

# The content playground's languages (code, name). The prompt names the language as well as
# its code ("fa (Persian)"), so a model does not have to guess what a code means. Persian,
# Arabic, Hebrew and Urdu are written right to left; the pages show them with dir="auto".
# The tones the content playground and the HTTP API offer (the first is the default).
CONTENT_TONES: tuple[str, ...] = ("informative", "friendly", "formal", "persuasive", "playful", "technical")

CONTENT_LANGUAGES: tuple[tuple[str, str], ...] = (
    ("en", "English"), ("fr", "French"), ("de", "German"), ("es", "Spanish"), ("it", "Italian"),
    ("pt", "Portuguese"), ("nl", "Dutch"), ("pl", "Polish"), ("sv", "Swedish"), ("tr", "Turkish"),
    ("ru", "Russian"), ("fa", "Persian"), ("ar", "Arabic"), ("he", "Hebrew"), ("ur", "Urdu"),
    ("hi", "Hindi"), ("zh", "Chinese"), ("ja", "Japanese"), ("ko", "Korean"),
)
_LANGUAGE_NAMES = dict(CONTENT_LANGUAGES)


def language_label(language: str) -> str:
    """ "fa" -> "fa (Persian)"; an unknown code or a name as typed stays as it is."""
    code = language.strip() or "en"
    name = _LANGUAGE_NAMES.get(code.lower())
    return f"{code} ({name})" if name else code


def content_messages(
    *, topic: str, word_count: int, tone: str, keywords: Sequence[str], language: str
) -> tuple[ChatMessage, ...]:
    lines = [
        f"Topic: {topic.strip()}",
        f"Word count: {word_count}",
        f"Tone: {tone.strip() or 'neutral'}",
        f"Keywords: {', '.join(k.strip() for k in keywords if k.strip())}",
        f"Language: {language_label(language)}",
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
