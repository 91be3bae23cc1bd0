"""The content playground: the page, and the article streamed over SSE."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from aiadmin.providers import usage
from aiadmin.providers.models import AdminProviderLimit, AdminProviderSettings, AIModel, AIRequestLog

from .test_chat import KEY, stream

pytestmark = pytest.mark.django_db(transaction=True)  # the service writes from worker threads

PAGE = reverse("aiadmin_console:content")
STREAM = reverse("aiadmin_console:content_stream")


@pytest.fixture
def sandbox(db):
    call_command("import_providers", verbosity=0)


@pytest.fixture
def writer(scripted_provider):
    """A scripted provider with a content model and the given streamed words."""

    def make(words: list[str], **overrides):
        provider = scripted_provider(model=None, script={"words": words}, **overrides)
        AIModel.objects.create(provider=provider, capability="content", model_id="writer", is_active=True)
        return provider

    return make


def test_page_renders_for_staff_with_the_form(staff_client, sandbox):
    response = staff_client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'value="sandbox::sandbox-writer"' in html
    for field in ("topic", "word_count", "tone", "keywords", "language"):
        assert f'name="{field}"' in html
    assert 'id="content-copy"' in html and 'id="content-download"' in html
    assert "aiadmin/content.js" in html


def test_anonymous_users_are_sent_to_login(client):
    for response in (client.get(PAGE), client.post(STREAM, {"topic": "x"})):
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


async def test_the_article_streams_then_done_carries_its_parts(superuser, sandbox):
    payload = {"topic": "Reliable AI gateways", "word_count": 200, "tone": "friendly", "keywords": "uptime, cost", "model": "sandbox::sandbox-writer"}
    response, events = await stream(superuser, payload, url=STREAM)
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    names = [name for name, _ in events]
    assert names[-1] == "done" and set(names[:-1]) == {"token"} and len(names) > 10
    streamed = "".join(data["text"] for name, data in events if name == "token")
    done = events[-1][1]
    assert done["markdown"] == streamed.strip()
    assert done["title"] and done["title"] in streamed
    assert done["meta_description"] and len(done["meta_description"]) <= 160
    assert "<h2>" in done["html"] and done["title"] not in done["html"].split("<h2>")[0]  # the body only
    assert done["output_tokens"] and done["latency_ms"] >= 0
    entry = await AIRequestLog.objects.aget()
    assert (entry.status, entry.capability) == ("ok", "content")


async def test_the_settings_reach_the_prompt(superuser, writer, scripted_adapter, monkeypatch):
    provider = await sync_to_async(writer)(["# T\n", "Body"], shared_api_key=KEY)
    seen = []
    original = scripted_adapter.stream_chat

    def spy(self, request):
        seen.append(request)
        return original(self, request)

    monkeypatch.setattr(scripted_adapter, "stream_chat", spy)
    payload = {"topic": "Tea", "word_count": "300", "tone": "playful", "keywords": "green, , oolong,green", "language": "fr", "model": f"{provider.slug}::writer"}
    _, events = await stream(superuser, payload, url=STREAM)
    assert events[-1][0] == "done"
    prompt = seen[0].messages[-1].content
    for line in ("Topic: Tea", "Word count: 300", "Tone: playful", "Keywords: green, oolong", "Language: fr"):
        assert line in prompt


async def test_hostile_article_text_is_sanitized_in_the_done_html(superuser, writer):
    words = ["# Title <script>alert(1)</script>\n", "Meta description: fine\n\n", "Body <img src=x onerror=alert(1)> ", "[x](javascript:alert(1))"]
    provider = await sync_to_async(writer)(words, shared_api_key=KEY)
    _, events = await stream(superuser, {"topic": "x", "model": f"{provider.slug}::writer"}, url=STREAM)
    done = events[-1][1]
    assert "<img" not in done["html"] and "<script" not in done["html"]
    assert "<a" not in done["html"] and "&lt;img src=x onerror=alert(1)&gt;" in done["html"]  # inert text
    # The title travels as text (the page sets it with textContent); the Markdown stays raw.
    assert done["title"] == "Title <script>alert(1)</script>"
    assert "onerror" in done["markdown"]


async def test_limit_reached_gives_a_clear_error_event(staff_user, writer):
    provider = await sync_to_async(writer)(["x"])
    await AdminProviderSettings.objects.acreate(admin=staff_user, provider=provider, personal_api_key=KEY)
    await AdminProviderLimit.objects.acreate(
        admin=staff_user, provider=provider, monthly_limit=2, usage_month=usage.month_start(), usage_month_requests=2
    )
    _, events = await stream(staff_user, {"topic": "Tea", "model": f"{provider.slug}::writer"}, url=STREAM)
    assert events[0][0] == "error" and "used all 2 requests" in events[0][1]["message"]
    assert (await AIRequestLog.objects.aget()).status == "limit"


async def test_no_access_gives_a_clear_error_event(staff_user, writer):
    provider = await sync_to_async(writer)(["x"], name="Keyless AI")
    _, events = await stream(staff_user, {"topic": "Tea", "model": f"{provider.slug}::writer"}, url=STREAM)
    assert events[0][0] == "error" and "No key for Keyless AI" in events[0][1]["message"]


@pytest.mark.parametrize(
    ("payload", "field", "message"),
    [
        ({"topic": "  "}, "topic", "The topic is empty"),
        ({"topic": "Tea", "word_count": "10"}, "word_count", "between 50 and 5000"),
        ({"topic": "Tea", "word_count": "many"}, "word_count", "between 50 and 5000"),
        ({"topic": "Tea", "keywords": ",".join(f"k{i}" for i in range(30))}, "keywords", "at most 20 keywords"),
        ({"topic": "Tea", "model": "sandbox::sandbox-chat"}, "model", "not a selected content model"),
    ],
)
async def test_invalid_input_is_refused_with_a_clear_message(superuser, sandbox, payload, field, message):
    response, events = await stream(superuser, payload, url=STREAM)
    assert response.status_code == 400 and not events
    body = json.loads(response.content)
    assert body["field"] == field and message in body["error"]


def test_the_stream_only_answers_post(staff_client):
    assert staff_client.get(STREAM).status_code == 405


def test_a_post_without_csrf_token_is_refused(staff_user, sandbox):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_user)
    response = client.post(STREAM, data=json.dumps({"topic": "Tea"}), content_type="application/json")
    assert response.status_code == 403
    assert not AIRequestLog.objects.exists()


RENDER = reverse("aiadmin_console:content_render")


def test_a_stopped_article_is_rendered_as_a_finished_one_sanitized(staff_client):
    partial = "# Lighthouses\nMeta description: Old lights.\n\n## Keepers\n\nThe keepers <img src=x onerror=alert(1)> kept the lam"
    response = staff_client.post(RENDER, json.dumps({"markdown": partial, "keywords": "keepers، lamps"}), content_type="application/json")
    assert response.status_code == 200
    data = response.json()
    assert (data["title"], data["meta_description"]) == ("Lighthouses", "Old lights.")
    assert "<h2>Keepers</h2>" in data["html"] and "<img" not in data["html"]
    assert data["markdown"].startswith("# Lighthouses") and data["markdown"].endswith("kept the lam")


def test_rendering_refuses_nothing_to_render_and_gets(staff_client):
    empty = staff_client.post(RENDER, json.dumps({"markdown": "  "}), content_type="application/json")
    assert empty.status_code == 400 and empty.json()["error"] == "There is no article text to show."
    assert staff_client.post(RENDER, "[1]", content_type="application/json").status_code == 400
    assert staff_client.get(RENDER).status_code == 405
    anonymous = Client().post(RENDER, json.dumps({"markdown": "# x"}), content_type="application/json")
    assert anonymous.status_code == 302


def test_the_page_offers_persian_and_arabic_and_marks_text_fields_dir_auto(staff_client, sandbox):
    html = staff_client.get(PAGE).content.decode()
    assert '<option value="fa">Persian</option>' in html and '<option value="ar">Arabic</option>' in html
    for testid in ("content-topic", "content-keywords", "content-preview"):
        tag = html[html.rindex("<", 0, html.index(f'data-testid="{testid}"')) : html.index(f'data-testid="{testid}"')]
        assert 'dir="auto"' in tag, testid


def test_keywords_split_on_the_arabic_script_comma_too():
    from aiadmin.console.views.content import keywords_split

    assert keywords_split("نگهبان، چراغ, lamps") == ["نگهبان", "چراغ", "lamps"]
