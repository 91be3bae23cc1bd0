"""The chat playground: a page, and an async SSE view that streams one turn.

The browser keeps the conversation and posts it with every turn, so the server holds no chat
state and any worker can answer any turn.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import sync_to_async
from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from aiadmin.adapters.safejson import SafeJSONDecoder
from aiadmin.unified import UnifiedAIService

from ..access import console_context, console_view
from ..markdown import render_markdown
from aiadmin.playground.picker import ModelChoice, choice_default, model_choices
from ..sse import Refused, sse_response, sse_stream, stream_request

MAX_MESSAGE_CHARS = 32_000
MAX_SYSTEM_PROMPT_CHARS = 8_000
MAX_HISTORY_TURNS = 200
MAX_HISTORY_CHARS = 400_000
MAX_TOKENS_LIMIT = 128_000

service = UnifiedAIService()


class ChatForm(forms.Form):
    message = forms.CharField(
        strip=False,
        max_length=MAX_MESSAGE_CHARS,
        error_messages={
            "required": "The message is empty: type something to send.",
            "max_length": f"The message is too long: at most {MAX_MESSAGE_CHARS} characters.",
        },
    )
    system_prompt = forms.CharField(
        required=False,
        max_length=MAX_SYSTEM_PROMPT_CHARS,
        error_messages={"max_length": f"The system prompt is too long: at most {MAX_SYSTEM_PROMPT_CHARS} characters."},
    )
    temperature = forms.FloatField(
        required=False,
        min_value=0,
        max_value=2,
        error_messages={
            "invalid": "The temperature must be a number between 0 and 2.",
            "min_value": "The temperature must be a number between 0 and 2.",
            "max_value": "The temperature must be a number between 0 and 2.",
        },
    )
    max_tokens = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_TOKENS_LIMIT,
        error_messages={
            "invalid": f"Max tokens must be a whole number between 1 and {MAX_TOKENS_LIMIT}.",
            "min_value": f"Max tokens must be a whole number between 1 and {MAX_TOKENS_LIMIT}.",
            "max_value": f"Max tokens must be a whole number between 1 and {MAX_TOKENS_LIMIT}.",
        },
    )
    model = forms.CharField(required=False, max_length=400)
    history = forms.JSONField(required=False, decoder=SafeJSONDecoder)

    def clean_message(self) -> str:
        message = self.cleaned_data["message"]
        if not message.strip():
            raise forms.ValidationError("The message is empty: type something to send.")
        return message

    def clean_history(self) -> list[dict[str, str]]:
        return history_check(self.cleaned_data.get("history"))


def history_check(history: Any) -> list[dict[str, str]]:
    """The posted conversation, as plain user/assistant turns (a system turn comes only from
    the system prompt field, so the history cannot smuggle one in)."""
    if history in (None, ""):
        return []
    if not isinstance(history, list) or len(history) > MAX_HISTORY_TURNS:
        raise forms.ValidationError(f"The conversation must be a list of at most {MAX_HISTORY_TURNS} turns. Start a new one.")
    turns = []
    for turn in history:
        if not isinstance(turn, dict) or turn.get("role") not in ("user", "assistant") or not isinstance(turn.get("content"), str):
            raise forms.ValidationError("The conversation history is malformed: start a new conversation.")
        turns.append({"role": turn["role"], "content": turn["content"]})
    if sum(len(turn["content"]) for turn in turns) > MAX_HISTORY_CHARS:
        raise forms.ValidationError("The conversation is too long to send again: start a new conversation.")
    return turns


def _page(request: HttpRequest, choices: list[ModelChoice]) -> HttpResponse:
    default = choice_default(choices)
    context = console_context(
        request,
        title="Chat playground",
        choices=choices,
        default=default,
        max_tokens_limit=MAX_TOKENS_LIMIT,
    )
    return render(request, "aiadmin/console/chat.html", context)


def _finish(text: str) -> dict[str, Any]:
    return {"html": render_markdown(text)}


@console_view
async def chat_view(request: HttpRequest) -> HttpResponse:
    choices = await model_choices("chat", request.user)
    # The admin site context (sidebar) may query permissions: render in a thread.
    return await sync_to_async(_page)(request, choices)


@console_view
async def chat_stream_view(request: HttpRequest) -> HttpResponse:
    try:
        values, provider_slug, model_id = await stream_request(request, form_class=ChatForm, capability="chat")
    except Refused as refused:
        return refused.response
    source = service.astream_chat(
        values["message"],
        request.user,
        conversation_history=values["history"],
        provider_slug=provider_slug,
        model_id=model_id,
        system_prompt=values["system_prompt"] or None,
        temperature=values["temperature"],
        max_tokens=values["max_tokens"],
    )
    return sse_response(sse_stream(source, _finish))
