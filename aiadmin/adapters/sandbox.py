"""The sandbox adapter: an offline, deterministic stand-in for a real AI provider.

It lets a fresh install and QA use every playground with no key and no network. Every answer
is derived from a SHA-256 hash of the input, so the same input always gives the same output;
nothing here reads the clock, uses unseeded randomness or opens a socket.
"""

from __future__ import annotations

import array
import asyncio
import hashlib
import io
import math
import re
import struct
import sys
import textwrap
import wave
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from pathlib import PurePosixPath
from typing import Any, ClassVar

from PIL import Image, ImageDraw, ImageFont, features

from .base import BaseAdapter
from .errors import BadRequestError
from .types import (
    ChatChunk,
    ChatFinish,
    ChatMessage,
    ChatRequest,
    GeneratedAudio,
    GeneratedImage,
    ImageRequest,
    KeyValidation,
    ModelInfo,
    SpeechRequest,
    Transcript,
    TranscriptionRequest,
    Usage,
)

# --------------------------------------------------------------------------- shared helpers


def _digest(*parts: object) -> bytes:
    """A stable 32-byte fingerprint of the given values."""
    joined = "\x1f".join(str(part) for part in parts)
    return hashlib.sha256(joined.encode("utf-8")).digest()


def _seeded_ints(seed: bytes) -> Iterator[int]:
    """An endless stream of bytes (0..255) derived from ``seed``, for deterministic choices."""
    counter = 0
    while True:
        yield from hashlib.sha256(seed + counter.to_bytes(8, "big")).digest()
        counter += 1


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _word_chunks(text: str) -> list[str]:
    """Split text into words, each keeping the whitespace that follows it, so the chunks
    join back into exactly ``text``."""
    return re.findall(r"\S+\s*", text)


def _count_words(text: str) -> int:
    return len(text.split())


# --------------------------------------------------------------------------- chat

_CHAT_OPENERS: tuple[str, ...] = (
    'This is the sandbox speaking: you said "{quote}".',
    'Sandbox reply to "{quote}".',
    'The offline sandbox received "{quote}".',
    'You wrote "{quote}", and the sandbox is answering.',
)
_CHAT_EMPTY_OPENER = "This is the sandbox speaking, but there is no user message to answer yet."
_CHAT_FOLLOW_UPS: tuple[str, ...] = (
    "No network call was made; this answer was generated locally and deterministically.",
    "Send the same conversation again and you will get exactly this answer.",
    "Your message has {words} words, which the sandbox counts but does not understand.",
    "Connect a real provider to get a genuine answer.",
    "The reply is picked from a hash of your message, so it changes when your words change.",
    "Fingerprint of this conversation: {fingerprint}.",
)
_QUOTE_WORDS = 8
_QUOTE_CHARS = 60


def _last_user_text(messages: Sequence[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            return message.content
    return ""


def _short_quote(text: str) -> str:
    words = _collapse(text).split(" ")
    quote = " ".join(words[:_QUOTE_WORDS])
    if len(quote) > _QUOTE_CHARS:
        quote = quote[: _QUOTE_CHARS - 1].rstrip()
    if quote != _collapse(text):
        quote += "…"
    return quote


# --------------------------------------------------------------------------- Persian and Arabic
# A message written in Arabic script is answered in its language, and an article asked for in
# Persian or Arabic is written in it, so right-to-left pages can be tried on the sandbox too.

_ARABIC_SCRIPT = re.compile("[\u0600-\u06ff\u0750-\u077f\ufb50-\ufdff\ufe70-\ufeff]")
_PERSIAN_LETTERS = re.compile("[\u067e\u0686\u0698\u06af\u06a9\u06cc]")  # پ چ ژ گ ک ی


def script_language(text: str) -> str:
    """"fa" or "ar" for text in Arabic script (Persian has letters Arabic lacks), else "en"."""
    if not _ARABIC_SCRIPT.search(text):
        return "en"
    return "fa" if _PERSIAN_LETTERS.search(text) else "ar"


_CHAT_LOCAL: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "fa": (
        ("این پاسخ سندباکس است: شما نوشتید «{quote}».", "پاسخ سندباکس به «{quote}»."),
        (
            "هیچ درخواستی به شبکه فرستاده نشد؛ این پاسخ به‌صورت محلی و قطعی ساخته شد.",
            "اگر همین گفتگو را دوباره بفرستید، دقیقاً همین پاسخ را می‌گیرید.",
            "پیام شما {words} کلمه دارد که سندباکس آن‌ها را می‌شمارد اما نمی‌فهمد.",
            "برای پاسخ واقعی، یک ارائه‌دهندهٔ واقعی را وصل کنید.",
            "اثر انگشت این گفتگو: {fingerprint}.",
        ),
    ),
    "ar": (
        ("هذا ردّ بيئة الاختبار: لقد كتبت «{quote}».", "ردّ بيئة الاختبار على «{quote}»."),
        (
            "لم يُرسل أي طلب عبر الشبكة؛ أُنشئ هذا الرد محليًا وبشكل حتمي.",
            "أرسل المحادثة نفسها مرة أخرى وستحصل على الرد نفسه تمامًا.",
            "تحتوي رسالتك على {words} كلمة، تعدّها بيئة الاختبار لكنها لا تفهمها.",
            "اربط مزوّدًا حقيقيًا للحصول على إجابة حقيقية.",
            "بصمة هذه المحادثة: {fingerprint}.",
        ),
    ),
}


def _chat_reply(messages: Sequence[ChatMessage]) -> str:
    seed = _digest(*(f"{m.role}:{m.content}" for m in messages))
    user_text = _last_user_text(messages)
    picks = _seeded_ints(seed)
    openers, follow_ups_pool = _CHAT_LOCAL.get(script_language(user_text), (_CHAT_OPENERS, _CHAT_FOLLOW_UPS))
    if user_text.strip():
        opener = openers[next(picks) % len(openers)].format(quote=_short_quote(user_text))
    else:
        opener = _CHAT_EMPTY_OPENER
    follow_up_count = 1 + next(picks) % 3  # 2..4 sentences in all
    pool = list(follow_ups_pool)
    follow_ups = [pool.pop(next(picks) % len(pool)) for _ in range(follow_up_count)]
    values = {"words": _count_words(user_text), "fingerprint": seed.hex()[:8]}
    return " ".join([opener, *(sentence.format(**values) for sentence in follow_ups)])


# --------------------------------------------------------------------------- content

DEFAULT_WORD_COUNT = 600
MIN_WORD_COUNT = 50
MAX_WORD_COUNT = 5000
_META_MAX_CHARS = 160
_TOPIC_MAX_CHARS = 120

_FIELD_ALIASES: dict[str, str] = {
    "topic": "topic",
    "subject": "topic",
    "title": "topic",
    "word count": "word_count",
    "wordcount": "word_count",
    "words": "word_count",
    "length": "word_count",
    "target length": "word_count",
    "tone": "tone",
    "style": "tone",
    "keywords": "keywords",
    "keyword": "keywords",
    "key words": "keywords",
    "tags": "keywords",
    "language": "language",
    "lang": "language",
}
# "Topic: x", "- **Word count**: 600", "tone = friendly" ...
_FIELD_LINE = re.compile(
    r"^\s*(?:[-*•]\s*)?\**\s*([A-Za-z][A-Za-z _-]{0,30}?)\s*\**\s*[:=]\s*\**\s*(.*?)\s*$"
)
_STOPWORDS = frozenset(
    "a an and are as at be by for from how in into is it of on or the to what why with your".split()
)


def _field_name(raw: str) -> str | None:
    normalised = " ".join(raw.lower().replace("_", " ").replace("-", " ").split())
    return _FIELD_ALIASES.get(normalised)


def _parse_word_count(value: str) -> int | None:
    match = re.search(r"\d[\d,.]*", value)
    if not match:
        return None
    digits = re.sub(r"[,.]", "", match.group())
    return min(max(int(digits), MIN_WORD_COUNT), MAX_WORD_COUNT)


def _parse_keywords(value: str) -> list[str]:
    seen: dict[str, str] = {}
    for part in re.split(r"[,;\n\u060c]", value):  # \u060c: the Arabic-script comma
        keyword = _collapse(part.strip(" \t\"'`*"))
        if keyword and keyword.lower() not in seen:
            seen[keyword.lower()] = keyword
    return list(seen.values())


def _short_topic(text: str) -> str:
    topic = _collapse(text)
    if len(topic) > _TOPIC_MAX_CHARS:
        topic = textwrap.shorten(topic, _TOPIC_MAX_CHARS, placeholder="…")
    return topic


def _topic_keywords(topic: str) -> list[str]:
    words = [w.strip(".,:;!?\"'()").lower() for w in topic.split()]
    candidates = [w for w in words if len(w) > 2 and w not in _STOPWORDS]
    return list(dict.fromkeys(sorted(candidates, key=len, reverse=True)))[:3]


def parse_content_prompt(text: str) -> dict[str, Any]:
    """Read a content prompt written as ``Field: value`` lines.

    Returns ``topic``, ``word_count``, ``tone``, ``keywords`` (list) and ``language``. Unknown
    lines are ignored unless there is no ``Topic:`` line, in which case the free text becomes
    the topic.
    """
    fields: dict[str, str] = {}
    free_lines: list[str] = []
    for line in text.splitlines():
        match = _FIELD_LINE.match(line)
        name = _field_name(match.group(1)) if match else None
        if match and name:
            fields.setdefault(name, match.group(2))
        elif line.strip():
            free_lines.append(line.strip())
    topic = _short_topic(fields.get("topic", "")) or _short_topic(" ".join(free_lines)) or "Untitled topic"
    word_count = _parse_word_count(fields.get("word_count", "")) or DEFAULT_WORD_COUNT
    return {
        "topic": topic,
        "word_count": word_count,
        "tone": _collapse(fields.get("tone", "")).lower() or "informative",
        "keywords": _parse_keywords(fields.get("keywords", "")),
        "language": _collapse(fields.get("language", "")) or "en",
    }


_TITLE_SUFFIXES: tuple[str, ...] = (
    ": A Practical Guide",
    ": What You Need to Know",
    " Explained",
    ": Key Ideas and First Steps",
)
_SECTION_HEADINGS: tuple[str, ...] = (
    "Why {topic} matters",
    "The basics of {topic}",
    "Where {keyword} fits in",
    "Getting started",
    "Common mistakes to avoid",
    "Practical tips",
    "A closer look at {keyword}",
    "Looking ahead",
)
_BODY_SENTENCES: tuple[str, ...] = (
    "Understanding {topic} starts with a clear picture of the goals behind it.",
    "Many teams find that getting {keyword} right makes the biggest difference.",
    "Taking {a_tone} approach keeps the discussion focused and useful for readers.",
    "It helps to start small, measure the results, and adjust along the way.",
    "When people talk about {keyword}, they usually mean a set of habits rather than a single tool.",
    "The best results come from combining {keyword} with steady, well documented practice.",
    "Each decision about {topic} should be tested against real needs instead of assumptions.",
    "Simple checklists make {keyword} easier to repeat and easier to teach.",
    "Readers new to {topic} often ask where to begin, and the answer is usually closer than expected.",
    "Good examples matter more than long explanations when introducing {keyword}.",
    "Over time, small improvements in {topic} add up to a noticeable change.",
    "Sharing what works, and what does not, keeps everyone moving in the same direction.",
)
_CONCLUSION_SENTENCES: tuple[str, ...] = (
    "In short, {topic} rewards patience, clear goals and honest measurement.",
    "Keep {keyword} in mind as you take the next step.",
    "Start with one change this week and build from there.",
    "With {a_tone} mindset and a little practice, the benefits of {topic} become clear.",
)
_SENTENCES_PER_PARAGRAPH = 4


@dataclass(frozen=True, slots=True)
class _ArticleWords:
    """The sentences an article is made of, in one language."""

    title_suffixes: tuple[str, ...]
    headings: tuple[str, ...]
    body: tuple[str, ...]
    conclusion: tuple[str, ...]
    focus: str  # {tone} {topic} {focus}
    meta: str  # {a_tone} {topic} {covering}
    covering: str  # {keywords}
    closing_heading: str
    overview_heading: str
    comma: str = ", "
    and_: str = " and "


_ENGLISH = _ArticleWords(
    title_suffixes=_TITLE_SUFFIXES,
    headings=_SECTION_HEADINGS,
    body=_BODY_SENTENCES,
    conclusion=_CONCLUSION_SENTENCES,
    focus="This {tone} article looks at {topic}, with a focus on {focus}.",
    meta="{A_tone} guide to {topic}{covering} with practical advice.",
    covering=", covering {keywords},",
    closing_heading="Conclusion",
    overview_heading="Overview",
)
_ARTICLE_WORDS: dict[str, _ArticleWords] = {
    "en": _ENGLISH,
    "fa": _ArticleWords(
        title_suffixes=(": راهنمای کاربردی", ": آنچه باید بدانید"),
        headings=(
            "چرا {topic} اهمیت دارد", "مبانی {topic}", "جایگاه {keyword}", "از کجا شروع کنیم",
            "اشتباه‌های رایج", "نکته‌های کاربردی", "نگاهی دقیق‌تر به {keyword}", "نگاه به آینده",
        ),
        body=(
            "شناخت {topic} با تصویری روشن از هدف‌های آن آغاز می‌شود.",
            "بسیاری از تیم‌ها می‌بینند که درست انجام دادن {keyword} بیشترین تفاوت را ایجاد می‌کند.",
            "بهتر است از کارهای کوچک شروع کنید، نتیجه را بسنجید و در مسیر اصلاح کنید.",
            "هر تصمیم دربارهٔ {topic} باید با نیازهای واقعی سنجیده شود، نه با فرض‌ها.",
            "فهرست‌های ساده، تکرار و آموزش {keyword} را آسان‌تر می‌کنند.",
            "با گذشت زمان، بهبودهای کوچک در {topic} به تغییری محسوس می‌رسند.",
            "نمونه‌های خوب در معرفی {keyword} از توضیح‌های طولانی مؤثرترند.",
            "به اشتراک گذاشتن آنچه جواب می‌دهد و آنچه نمی‌دهد، همه را هم‌مسیر نگه می‌دارد.",
        ),
        conclusion=(
            "خلاصه اینکه {topic} به صبر، هدف روشن و سنجش صادقانه پاداش می‌دهد.",
            "این هفته با یک تغییر شروع کنید و از همان‌جا ادامه دهید.",
        ),
        focus="این مقاله به {topic} می‌پردازد و بر {focus} تمرکز دارد.",
        meta="راهنمایی دربارهٔ {topic}{covering} با توصیه‌های کاربردی.",
        covering="، شامل {keywords}،",
        closing_heading="جمع‌بندی",
        overview_heading="مرور کلی",
        comma="، ",
        and_=" و ",
    ),
    "ar": _ArticleWords(
        title_suffixes=(": دليل عملي", ": ما تحتاج إلى معرفته"),
        headings=(
            "لماذا يهمّ {topic}", "أساسيات {topic}", "مكانة {keyword}", "من أين نبدأ",
            "أخطاء شائعة", "نصائح عملية", "نظرة أقرب إلى {keyword}", "نظرة إلى المستقبل",
        ),
        body=(
            "يبدأ فهم {topic} بصورة واضحة عن أهدافه.",
            "تجد فرق كثيرة أن إتقان {keyword} يصنع الفرق الأكبر.",
            "من الأفضل أن تبدأ صغيرًا، وأن تقيس النتائج، وأن تعدّل في الطريق.",
            "ينبغي أن يُختبر كل قرار بشأن {topic} على الاحتياجات الحقيقية لا على الافتراضات.",
            "القوائم البسيطة تجعل {keyword} أسهل في التكرار والتعليم.",
            "مع الوقت، تتراكم التحسينات الصغيرة في {topic} لتصنع تغييرًا ملحوظًا.",
            "الأمثلة الجيدة أهم من الشروح الطويلة عند تقديم {keyword}.",
            "مشاركة ما ينجح وما لا ينجح تُبقي الجميع في الاتجاه نفسه.",
        ),
        conclusion=(
            "باختصار، يكافئ {topic} الصبر والأهداف الواضحة والقياس الصادق.",
            "ابدأ بتغيير واحد هذا الأسبوع وابنِ عليه.",
        ),
        focus="تتناول هذه المقالة {topic} مع التركيز على {focus}.",
        meta="دليل حول {topic}{covering} مع نصائح عملية.",
        covering=" يغطي {keywords}،",
        closing_heading="الخلاصة",
        overview_heading="نظرة عامة",
        comma="، ",
        and_=" و",
    ),
}
_LANGUAGE_WORDS = {"persian": "fa", "farsi": "fa", "arabic": "ar"}


def article_language(value: str) -> str:
    """The article language the sandbox writes for a prompt's "Language:" value ("fa",
    "fa (Persian)", "Arabic"...): "fa", "ar" or "en" (every other language gets English)."""
    for word in re.findall(r"[a-z]+", value.lower()):
        code = _LANGUAGE_WORDS.get(word, word)
        if code in _ARTICLE_WORDS:
            return code
    return "en"


def _title_case(text: str) -> str:
    if any(ch.isupper() for ch in text):
        return text  # respect capitalisation the author chose
    words = text.split()
    return " ".join(
        word if (i and word in _STOPWORDS) else word[:1].upper() + word[1:]
        for i, word in enumerate(words)
    )


def _join_keywords(keywords: Sequence[str], words: _ArticleWords = _ENGLISH) -> str:
    if len(keywords) <= 1:
        return "".join(keywords)
    return words.comma.join(keywords[:-1]) + words.and_ + keywords[-1]


def _with_article(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _meta_description(topic: str, tone: str, keywords: Sequence[str], words: _ArticleWords = _ENGLISH) -> str:
    covering = words.covering.format(keywords=_join_keywords(keywords, words)) if keywords else ""
    sentence = words.meta.format(A_tone=_with_article(tone).capitalize(), topic=topic, covering=covering)
    if len(sentence) <= _META_MAX_CHARS:
        return sentence
    return textwrap.shorten(sentence, _META_MAX_CHARS, placeholder="…")


class _SentenceSource:
    """Deterministic sentence picker: deals each template list like a shuffled deck (so no
    sentence repeats until all have been used) and cycles through the keywords."""

    def __init__(self, seed: bytes, topic: str, tone: str, keywords: Sequence[str]) -> None:
        self._picks = _seeded_ints(seed)
        self._topic = topic
        self._tone = tone
        self._keywords = list(keywords) or [topic]
        self._keyword_index = 0
        self._decks: dict[tuple[str, ...], list[str]] = {}

    def _next_keyword(self) -> str:
        keyword = self._keywords[self._keyword_index % len(self._keywords)]
        self._keyword_index += 1
        return keyword

    def _deal(self, templates: tuple[str, ...]) -> str:
        deck = self._decks.get(templates)
        if not deck:
            deck = self._decks[templates] = list(templates)
        return deck.pop(next(self._picks) % len(deck))

    def pick(self, templates: tuple[str, ...]) -> str:
        template = self._deal(templates)
        keyword = self._next_keyword() if "{keyword}" in template else ""
        return template.format(
            topic=self._topic, tone=self._tone, a_tone=_with_article(self._tone), keyword=keyword
        )


def _paragraphs(sentences: Sequence[str]) -> list[str]:
    step = _SENTENCES_PER_PARAGRAPH
    return [" ".join(sentences[i : i + step]) for i in range(0, len(sentences), step)]


def _fill(
    source: _SentenceSource, templates: tuple[str, ...], budget: int, *, minimum: int = 1
) -> list[str]:
    """At least ``minimum`` sentences, then more while that brings the word total closer to
    ``budget``."""
    sentences = [source.pick(templates) for _ in range(minimum)]
    used = sum(_count_words(sentence) for sentence in sentences)
    while True:
        candidate = source.pick(templates)
        size = _count_words(candidate)
        if used + size / 2 > budget:
            return sentences
        sentences.append(candidate)
        used += size


def _article(prompt: dict[str, Any]) -> str:
    topic, tone, target = prompt["topic"], prompt["tone"], prompt["word_count"]
    words = _ARTICLE_WORDS[article_language(prompt.get("language", ""))]
    keywords: list[str] = prompt["keywords"] or _topic_keywords(topic)
    seed = _digest("content", topic, tone, target, *keywords)
    source = _SentenceSource(seed, topic, tone, keywords)
    title = _title_case(topic) + words.title_suffixes[seed[0] % len(words.title_suffixes)]
    lines = [f"# {title}", "", f"Meta description: {_meta_description(topic, tone, keywords, words)}", ""]
    # Short articles skip the intro and the middle sections: their fixed words would
    # overshoot the requested length.
    section_count = min(target // 150, len(words.headings))
    focus = words.focus.format(tone=tone, topic=topic, focus=_join_keywords(keywords or [topic], words))
    if section_count:
        lines += [focus, ""]
    sections = [words.headings[(seed[1] + i) % len(words.headings)] for i in range(section_count)]
    used = _count_words("\n".join(lines)) + 2  # the closing section's heading
    per_section = max((target - used) // (section_count + 1), 1)
    for index, heading in enumerate(sections):
        keyword = keywords[index % len(keywords)] if keywords else topic
        heading_line = "## " + heading.format(topic=topic, keyword=keyword)
        body = _fill(source, words.body, per_section - _count_words(heading_line))
        lines += [heading_line, "", *(p + "\n" for p in _paragraphs(body))]
    # The closing section absorbs whatever the others left over, so the total lands near target.
    remaining = target - _count_words("\n".join(lines)) - 2
    if section_count:
        closing = _fill(source, words.conclusion + words.body, remaining)
    else:  # a short article is one section that opens with the focus sentence
        rest = _fill(source, words.body, remaining - _count_words(focus), minimum=0)
        closing = [focus, *rest]
    lines += [f"## {words.closing_heading if section_count else words.overview_heading}", ""]
    lines += [p + "\n" for p in _paragraphs(closing)]
    return "\n".join(lines).strip() + "\n"


# --------------------------------------------------------------------------- images

DEFAULT_IMAGE_SIZE = (512, 512)
MIN_IMAGE_SIDE = 64
MAX_IMAGE_SIDE = 1024
MAX_IMAGES = 10
_SIZE_PATTERN = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")


def parse_image_size(size: str | None) -> tuple[int, int]:
    """``"WxH"`` -> (width, height), each side clamped to 64..1024; 512x512 on bad input."""
    match = _SIZE_PATTERN.match(size or "")
    if not match:
        return DEFAULT_IMAGE_SIZE
    width, height = (min(max(int(value), MIN_IMAGE_SIDE), MAX_IMAGE_SIDE) for value in match.groups())
    return width, height


def _colour(picks: Iterator[int], alpha: int | None = None) -> tuple[int, ...]:
    rgb = (next(picks), next(picks), next(picks))
    return rgb if alpha is None else (*rgb, alpha)


def _gradient(size: tuple[int, int], picks: Iterator[int]) -> Image.Image:
    start = Image.new("RGB", size, _colour(picks))
    end = Image.new("RGB", size, _colour(picks))
    mask = Image.linear_gradient("L").rotate(90 * (next(picks) % 4)).resize(size)
    return Image.composite(end, start, mask).convert("RGBA")


def _shapes(size: tuple[int, int], picks: Iterator[int]) -> Image.Image:
    width, height = size
    layer = Image.new("RGBA", size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    for _ in range(3 + next(picks) % 4):
        centre_x = next(picks) * width // 255
        centre_y = next(picks) * height // 255
        radius = min(width, height) * (10 + next(picks) % 30) // 100
        box = (centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius)
        fill = _colour(picks, alpha=120 + next(picks) % 100)
        kind = next(picks) % 3
        if kind == 0:
            draw.ellipse(box, fill=fill)
        elif kind == 1:
            draw.rectangle(box, fill=fill)
        else:
            corners = [
                (centre_x, centre_y - radius),
                (centre_x + radius, centre_y + radius),
                (centre_x - radius, centre_y + radius),
            ]
            draw.polygon(corners, fill=fill)
    return layer


def _wrap(draw: ImageDraw.ImageDraw, text: str, font: Any, max_width: float) -> list[str]:
    """Greedy word wrap by rendered width; words wider than a line are cut by characters."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while draw.textlength(word, font=font) > max_width and len(word) > 1:
            cut = len(word)
            while cut > 1 and draw.textlength(word[:cut], font=font) > max_width:
                cut -= 1
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:cut])
            word = word[cut:]
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= max_width:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


# Caption fonts. Pillow's built-in font covers Latin only: Persian, Arabic or Chinese drawn
# with it come out as boxes. DejaVu Sans (Debian's fonts-dejavu-core, which the test command
# installs) covers Latin, Greek, Cyrillic, Hebrew, Arabic and Persian; CJK needs one of the
# CJK fonts below (fonts-noto-cjk, fonts-wqy-microhei, fonts-droid-fallback). Arabic-script
# letters are joined and ordered right to left only when Pillow has raqm (its wheels do).
TEXT_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/truetype/noto/NotoSans-Regular.ttf",
)
CJK_FONTS: tuple[str, ...] = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)
NO_CJK_FONT_NOTE = "(no CJK font installed: install fonts-noto-cjk)"
_CJK = re.compile("[\u1100-\u11ff\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef]")


def _has_cjk(text: str) -> bool:
    return bool(_CJK.search(text))


@lru_cache(maxsize=64)
def caption_font(size: int, *, cjk: bool = False) -> Any:
    """The first installed font for the script (CJK or the rest), else Pillow's built-in one."""
    layout = ImageFont.Layout.RAQM if features.check("raqm") else ImageFont.Layout.BASIC
    for path in (CJK_FONTS + TEXT_FONTS) if cjk else TEXT_FONTS:
        try:
            return ImageFont.truetype(path, size=size, layout_engine=layout)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def _font_covers_cjk(font: Any) -> bool:
    return any(str(getattr(font, "path", "")) == path for path in CJK_FONTS)


def _caption(image: Image.Image, prompt: str) -> None:
    width, height = image.size
    text = _collapse(prompt)
    font = caption_font(max(10, min(width, height) // 22), cjk=_has_cjk(text))
    if _has_cjk(text) and not _font_covers_cjk(font):
        text = f"{text} {NO_CJK_FONT_NOTE}"  # say so rather than leave unexplained boxes
    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    margin = max(6, width // 20)
    line_height = int(font.size * 1.3) if hasattr(font, "size") else 14
    lines = _wrap(draw, text, font, width - 4 * margin)
    max_lines = max(1, int(height * 0.6) // line_height)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1].rstrip(".") + "…"
    block_height = line_height * len(lines)
    top = (height - block_height) // 2
    draw.rectangle(
        (margin, top - margin // 2, width - margin, top + block_height + margin // 2), fill=(0, 0, 0, 150)
    )
    for index, line in enumerate(lines):
        line_width = draw.textlength(line, font=font)
        draw.text(((width - line_width) / 2, top + index * line_height), line, font=font, fill="white")
    _label(draw, width)
    image.alpha_composite(overlay)


def _label(draw: ImageDraw.ImageDraw, width: int) -> None:
    font = caption_font(max(9, width // 40))
    text = "SANDBOX"
    left, top, right, bottom = draw.textbbox((6, 6), text, font=font)
    draw.rectangle((left - 3, top - 3, right + 3, bottom + 3), fill=(0, 0, 0, 190))
    draw.text((6, 6), text, font=font, fill=(255, 210, 0, 255))


def render_image(prompt: str, size: tuple[int, int], index: int = 0) -> bytes:
    """A PNG whose colours and shapes come from sha256(prompt + index), captioned with the
    prompt and labelled SANDBOX."""
    picks = _seeded_ints(hashlib.sha256(f"{prompt}{index}".encode()).digest())
    image = _gradient(size, picks)
    image.alpha_composite(_shapes(size, picks))
    _caption(image, prompt)
    buffer = io.BytesIO()
    image.convert("RGB").save(buffer, format="PNG")
    return buffer.getvalue()


# --------------------------------------------------------------------------- audio

SAMPLE_RATE = 16_000
MAX_SPEECH_CHARS = 4096
_AMPLITUDE = 0.3 * 32767
_SECONDS_PER_CHAR = 0.08
_GAP_SECONDS = 0.06
_EDGE_SECONDS = 0.1
# Tone periods are whole numbers of samples (232..800 Hz) so one cycle can be tiled, which
# is fast and starts and ends every tone at zero (no clicks).
_MIN_PERIOD, _PERIOD_SPAN = 20, 50


@lru_cache(maxsize=_PERIOD_SPAN)
def _cycle(period: int) -> bytes:
    samples = array.array(
        "h", (int(_AMPLITUDE * math.sin(2 * math.pi * k / period)) for k in range(period))
    )
    if sys.byteorder == "big":  # WAV samples are little-endian
        samples.byteswap()
    return samples.tobytes()


def _silence(seconds: float) -> bytes:
    return bytes(2 * round(seconds * SAMPLE_RATE))


def _tone(period: int, seconds: float) -> bytes:
    cycles = max(1, round(seconds * SAMPLE_RATE / period))
    return _cycle(period) * cycles


def _clamp_speed(speed: float | None) -> float:
    return min(max(speed if speed else 1.0, 0.25), 4.0)


def synthesise_speech(text: str, *, voice: str | None = None, speed: float | None = None) -> bytes:
    """16-bit mono WAV: one tone per word (pitch from a hash of word and voice, length from
    the word's characters), short gaps between words; ``speed`` divides every duration."""
    pace = _clamp_speed(speed)
    frames = [_silence(_EDGE_SECONDS / pace)]
    for word in text.split():
        period = _MIN_PERIOD + _digest(voice or "", word.lower())[0] % _PERIOD_SPAN
        frames += [_tone(period, _SECONDS_PER_CHAR * len(word) / pace), _silence(_GAP_SECONDS / pace)]
    frames.append(_silence(_EDGE_SECONDS / pace))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(b"".join(frames))
    return buffer.getvalue()


def _wav_facts(audio: bytes) -> tuple[float, int, int] | None:
    """(duration in seconds, channels, sample rate) when ``audio`` is a readable WAV."""
    try:
        with wave.open(io.BytesIO(audio), "rb") as wav:
            frames, channels, rate = wav.getnframes(), wav.getnchannels(), wav.getframerate()
    except (wave.Error, EOFError, struct.error, ValueError):
        return None
    if rate <= 0:
        return None
    return frames / rate, channels, rate


def _channel_text(channels: int) -> str:
    return {1: "mono", 2: "stereo"}.get(channels, f"{channels} channels")


def _upload_kind(request: TranscriptionRequest) -> str:
    if request.mime_type:
        return request.mime_type
    suffix = PurePosixPath(request.filename or "").suffix.lstrip(".").lower()
    return suffix or "audio"


# --------------------------------------------------------------------------- the adapter

_PRICE_FREE = Decimal("0")


def _model(model_id: str, name: str, capabilities: set[str], description: str, context: int) -> ModelInfo:
    return ModelInfo(
        id=model_id,
        name=name,
        capabilities=frozenset(capabilities),
        description=description,
        is_free=True,
        pricing_input=_PRICE_FREE,
        pricing_output=_PRICE_FREE,
        context_window=context,
    )


SANDBOX_MODELS: tuple[ModelInfo, ...] = (
    _model(
        "sandbox-chat",
        "Sandbox Chat",
        {"chat", "content"},
        "Sandbox chat model: short, deterministic replies that quote your message.",
        8192,
    ),
    _model(
        "sandbox-writer",
        "Sandbox Writer",
        {"content", "chat"},
        "Sandbox writer: deterministic Markdown articles of the requested length.",
        16384,
    ),
    _model(
        "sandbox-image",
        "Sandbox Image",
        {"image"},
        "Sandbox image model: deterministic PNG artwork drawn from your prompt.",
        1024,
    ),
    _model(
        "sandbox-voice",
        "Sandbox Voice",
        {"audio"},
        "Sandbox voice model: WAV tones for speech, file facts for transcription.",
        4096,
    ),
)


class SandboxAdapter(BaseAdapter):
    """Offline demo provider. Every operation works without a key or network and returns the
    same output for the same input."""

    key: ClassVar[str] = "sandbox"
    label: ClassVar[str] = "Sandbox (offline demo)"
    description: ClassVar[str] = (
        "An offline, deterministic demo provider that never calls the network and needs no API "
        "key. Its answers are generated locally from a hash of the input (the same input always "
        "gives the same output), so they are placeholders, not real AI output. Use it to try the "
        "playgrounds on a fresh install and in QA."
    )
    capabilities: ClassVar[frozenset[str]] = frozenset({"chat", "content", "image", "audio"})
    requires_key: ClassVar[bool] = False
    requires_base_url: ClassVar[bool] = False
    speech_formats: ClassVar[tuple[str, ...] | None] = ("wav",)  # no encoder: WAV only

    async def list_models(self) -> list[ModelInfo]:
        return list(SANDBOX_MODELS)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk | Usage]:
        if request.purpose == "content":
            text = _article(parse_content_prompt(_last_user_text(request.messages)))
        else:
            text = _chat_reply(request.messages)
        for stop in request.stop:  # like a provider: the answer ends before the sequence
            if stop and stop in text:
                text = text[: text.index(stop)]
        chunks = _word_chunks(text)
        finish_reason = "stop"
        if request.max_tokens is not None and len(chunks) > max(request.max_tokens, 0):
            chunks, finish_reason = chunks[: max(request.max_tokens, 0)], "length"
        delay = float(self.config.get("stream_delay", 0) or 0)
        for chunk in chunks:
            await asyncio.sleep(delay)
            yield ChatChunk(text=chunk)
        yield ChatFinish(finish_reason)
        input_tokens = sum(_count_words(message.content) for message in request.messages)
        yield Usage(input_tokens=input_tokens, output_tokens=len(chunks))

    async def generate_image(self, request: ImageRequest) -> list[GeneratedImage]:
        if not request.prompt.strip():
            raise self._bad_request("Enter a prompt: the sandbox draws the image from its text.")
        if not 1 <= request.n <= MAX_IMAGES:
            raise self._bad_request(
                f"The sandbox makes 1 to {MAX_IMAGES} images per request; {request.n} were asked for."
            )
        size = parse_image_size(request.size)
        images = []
        for index in range(request.n):
            data = await asyncio.to_thread(render_image, request.prompt, size, index)
            images.append(GeneratedImage(data=data, mime_type="image/png"))
        return images

    async def text_to_speech(self, request: SpeechRequest) -> GeneratedAudio:
        """Tones, not words. The sandbox only produces 16-bit mono WAV, whatever
        ``request.format`` asks for; the mime type says so."""
        if not request.text.strip():
            raise self._bad_request("Enter some text to turn into speech.")
        if len(request.text) > MAX_SPEECH_CHARS:
            raise self._bad_request(
                f"The text is {len(request.text)} characters; the sandbox speaks at most "
                f"{MAX_SPEECH_CHARS}. Shorten it and try again."
            )
        data = await asyncio.to_thread(
            synthesise_speech, request.text, voice=request.voice, speed=request.speed
        )
        return GeneratedAudio(data=data, mime_type="audio/wav")

    async def speech_to_text(self, request: TranscriptionRequest) -> Transcript:
        if not request.audio:
            raise self._bad_request("The audio file is empty. Record or upload a clip before transcribing.")
        facts = _wav_facts(request.audio)
        if facts is None:
            text = f"Sandbox transcript of a {len(request.audio)}-byte {_upload_kind(request)} upload."
            return Transcript(text=text, language=request.language)
        duration, channels, rate = facts
        text = (
            f"Sandbox transcript of a {duration:.1f} second WAV recording "
            f"({_channel_text(channels)}, {rate} Hz)."
        )
        return Transcript(text=text, language=request.language, duration_seconds=round(duration, 3))

    async def validate_key(self) -> KeyValidation:
        return KeyValidation(
            ok=True, message="The sandbox needs no API key: it runs offline, so there is nothing to check."
        )

    def _bad_request(self, message: str) -> BadRequestError:
        return BadRequestError(message, provider=self.provider_name)
