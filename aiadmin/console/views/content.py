"""The content playground: a page, and an async SSE view that streams an article as Markdown
and ends with its parts (title, meta description, sanitized body) for preview and download."""

from __future__ import annotations

import re
from typing import Any

from asgiref.sync import sync_to_async
from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render

from aiadmin.unified import UnifiedAIService
from aiadmin.unified.content import CONTENT_TONES, article_parse

from ..access import console_context, console_view
from ..markdown import render_markdown
from aiadmin.playground.forms import CONTENT_LANGUAGES
from aiadmin.playground.picker import ModelChoice, choice_default, model_choices
from ..sse import MAX_RENDERED_CHARS, Refused, invalid, payload_read, sse_response, sse_stream, stream_request

MIN_WORDS, MAX_WORDS, DEFAULT_WORDS = 50, 5000, 600
MAX_KEYWORDS = 20
TONES = CONTENT_TONES
LANGUAGES = CONTENT_LANGUAGES

service = UnifiedAIService()


class ContentForm(forms.Form):
    topic = forms.CharField(
        max_length=500,
        error_messages={
            "required": "The topic is empty: say what the article should be about.",
            "max_length": "The topic is too long: at most 500 characters.",
        },
    )
    word_count = forms.IntegerField(
        required=False,
        min_value=MIN_WORDS,
        max_value=MAX_WORDS,
        error_messages={
            key: f"The word count must be a whole number between {MIN_WORDS} and {MAX_WORDS}."
            for key in ("invalid", "min_value", "max_value")
        },
    )
    tone = forms.CharField(required=False, max_length=40, error_messages={"max_length": "The tone is too long: at most 40 characters."})
    keywords = forms.CharField(required=False, max_length=1000, error_messages={"max_length": "The keywords are too long: at most 1000 characters."})
    language = forms.CharField(required=False, max_length=40, error_messages={"max_length": "The language is too long: at most 40 characters."})
    model = forms.CharField(required=False, max_length=400)

    def clean_word_count(self) -> int:
        return self.cleaned_data["word_count"] or DEFAULT_WORDS

    def clean_keywords(self) -> list[str]:
        keywords = keywords_split(self.cleaned_data["keywords"])
        if len(keywords) > MAX_KEYWORDS:
            raise forms.ValidationError(f"Use at most {MAX_KEYWORDS} keywords.")
        return keywords


def keywords_split(text: str) -> list[str]:
    """Comma separated keywords (the Latin or the Arabic-script comma), trimmed, without
    blanks or repeats (first spelling wins)."""
    seen: dict[str, str] = {}
    for part in re.split("[,\u060c]", text or ""):
        keyword = " ".join(part.split())
        if keyword and keyword.lower() not in seen:
            seen[keyword.lower()] = keyword
    return list(seen.values())


def _page(request: HttpRequest, choices: list[ModelChoice]) -> HttpResponse:
    context = console_context(
        request,
        title="Content playground",
        choices=choices,
        default=choice_default(choices),
        tones=TONES,
        languages=LANGUAGES,
        min_words=MIN_WORDS,
        max_words=MAX_WORDS,
        default_words=DEFAULT_WORDS,
    )
    return render(request, "aiadmin/console/content.html", context)


def _finisher(keywords: list[str]):
    def finish(text: str) -> dict[str, Any]:
        article = article_parse(text, keywords=keywords)
        return {
            "html": render_markdown(article.body),
            "title": article.title,
            "meta_description": article.meta_description,
            "markdown": article.markdown,
        }

    return finish


@console_view
async def content_view(request: HttpRequest) -> HttpResponse:
    choices = await model_choices("content", request.user)
    # The admin site context (sidebar) may query permissions: render in a thread.
    return await sync_to_async(_page)(request, choices)


@console_view
async def content_stream_view(request: HttpRequest) -> HttpResponse:
    try:
        values, provider_slug, model_id = await stream_request(request, form_class=ContentForm, capability="content")
    except Refused as refused:
        return refused.response
    source = service.astream_content(
        values["topic"],
        request.user,
        word_count=values["word_count"],
        tone=values["tone"] or "informative",
        keywords=values["keywords"],
        language=values["language"] or "en",
        provider_slug=provider_slug,
        model_id=model_id,
    )
    return sse_response(sse_stream(source, _finisher(values["keywords"])))


@console_view
def content_render_view(request: HttpRequest) -> HttpResponse:
    """A stopped article's Markdown, rendered as a finished one is (the same parse, the same
    sanitizer), so Stop leaves a formatted partial article that can be copied and downloaded."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    try:
        data = payload_read(request)
    except ValueError as err:
        return invalid(str(err))
    markdown = data.get("markdown")
    if not isinstance(markdown, str) or not markdown.strip():
        return invalid("There is no article text to show.", field="markdown")
    if len(markdown) > MAX_RENDERED_CHARS:
        return invalid(f"The article is longer than {MAX_RENDERED_CHARS:,} characters, the most the playground shows.", field="markdown")
    keywords = keywords_split(data.get("keywords") if isinstance(data.get("keywords"), str) else "")
    return JsonResponse(_finisher(keywords[:MAX_KEYWORDS])(markdown))
