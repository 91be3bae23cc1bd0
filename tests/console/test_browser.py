"""Model browser and one-click selection, against the fake provider over HTTP."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.contrib.admin.models import LogEntry
from django.urls import reverse
from django.utils.html import escape

from aiadmin.providers.models import AdminProviderSettings, AIModel, AIProvider

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def fake_openai(fake_provider, make_provider):
    def make(**overrides) -> AIProvider:
        values = {
            "slug": "fake",
            "name": "Fake OpenAI",
            "adapter": "openai",
            "api_base_url": fake_provider.openai_base_url,
            "capabilities": {"chat": {"supported": True, "dynamic_models": True}, "image": {"supported": True, "dynamic_models": True}},
            "config": {"auth": {"style": "bearer"}, "allow_private_network": True},
            "shared_api_key": "test-key",
        }
        values.update(overrides)
        return make_provider(**values)

    return make


def model_ids(html: str) -> list[str]:
    return [unescape(found) for found in re.findall(r'data-testid="model-([^"]+)"', html)]


def browse(client, slug="fake", capability="chat", **params):
    return client.get(reverse("aiadmin_console:browser", args=[slug, capability]), params, HTTP_HX_REQUEST="true")


def test_no_upstream_call_until_the_browser_is_opened(superuser_client, fake_openai, fake_provider):
    fake_openai()
    superuser_client.get(reverse("aiadmin_console:cards"))
    assert fake_provider.requests_to("/models") == []
    response = browse(superuser_client)
    assert response.status_code == 200
    assert len(fake_provider.requests_to("/models")) == 1


def test_browser_lists_models_with_price_context_and_free_flag(superuser_client, fake_openai):
    fake_openai()
    html = browse(superuser_client).content.decode()
    assert 'data-testid="browser-fake-chat"' in html
    headers = re.findall(r'<th scope="col"[^>]*>(.*?)</th>', html)
    assert headers[:4] == ["Model", "Context (tokens)", "Input $ per M", "Output $ per M"]
    # one row per model: the id in full in its title (it is cut to one line on screen), then
    # context and prices each in their own cell
    row = re.search(r'<tr class="ai-model[^"]*" data-testid="model-([^"]+)">(.*?)</tr>', html, re.S)
    model_id, cells = unescape(row.group(1)), re.findall(r"<td[^>]*>(.*?)</td>", row.group(2), re.S)
    assert f'title="{escape(model_id)}">{escape(model_id)}</code>' in row.group(2)
    assert len(cells) == 5
    assert re.search(r"[\d,]+|—", cells[1]) and re.search(r"\$[\d.]+|—", cells[2]) and re.search(r"\$[\d.]+|—", cells[3])
    assert re.search(r'<td class="ai-num">\d{1,3}(,\d{3})+</td>', html)  # a context window, grouped
    assert re.search(r'<td class="ai-num">\$\d', html)  # a price


def test_browser_says_when_the_list_was_fetched_in_words(superuser_client, fake_openai):
    import time as clock
    from datetime import timedelta

    from django.core.cache import cache

    from aiadmin.unified.model_lists import cache_keys, key_identity, provider_fingerprint

    provider = fake_openai()
    html = browse(superuser_client).content.decode()
    assert re.search(r'list fetched <time datetime="[^"]+" title="[^"]+" data-testid="fetched-fake-chat">just now</time>', html)
    # and a list cached three hours ago says so
    fresh, _ = cache_keys(
        provider_id=provider.pk,
        fingerprint=provider_fingerprint(adapter=provider.adapter, base_url=provider.api_base_url, config=provider.config),
        identity=key_identity("test-key"),
    )
    entry = cache.get(fresh)
    cache.set(fresh, {**entry, "fetched_at": clock.time() - timedelta(hours=3, minutes=10).total_seconds()}, 3600)
    assert 'data-testid="fetched-fake-chat">3 hours ago</time>' in browse(superuser_client, q="echo").content.decode()


def test_search_free_filter_and_pagination(superuser_client, superuser, fake_openai, monkeypatch):
    from aiadmin.unified import UnifiedAIService

    monkeypatch.setattr("aiadmin.console.views.browser.PAGE_SIZE", 5)  # the fake lists a dozen or so
    fake_openai()
    listed = UnifiedAIService().browse_models("fake", "chat", superuser).models
    assert len(listed) > 10
    first_page = model_ids(browse(superuser_client, part="list").content.decode())
    assert first_page == [model.id for model in listed[:5]]
    second_page = model_ids(browse(superuser_client, part="list", page="2").content.decode())
    assert second_page == [model.id for model in listed[5:10]]
    free = model_ids(browse(superuser_client, part="list", free="1").content.decode())
    assert free and set(free) == {model.id for model in listed if model.is_free}
    target = listed[-1]
    assert target.id in model_ids(browse(superuser_client, part="list", q=target.id).content.decode())


def test_selecting_a_model_updates_the_card_row_and_history(superuser_client, superuser, fake_openai):
    provider = fake_openai()
    # The second model, so that "selected first" has to move it to the top.
    model_id = model_ids(browse(superuser_client, part="list").content.decode())[1]
    response = superuser_client.post(reverse("aiadmin_console:select", args=["fake", "chat"]), {"model_id": model_id}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'hx-swap-oob="true"' in html and 'id="cap-fake-chat"' in html
    selected = AIModel.objects.get(provider=provider, capability="chat", is_active=True)
    assert selected.model_id == model_id and escape(selected.display_name) in html
    assert LogEntry.objects.filter(user=superuser, change_message__contains=model_id).exists()
    # the list, reopened, marks the new selection (nothing stale is reused)
    assert model_ids(browse(superuser_client, part="list").content.decode())[0] == model_id
    # everyone sees it on reload
    assert escape(selected.display_name) in superuser_client.get(reverse("aiadmin_console:cards")).content.decode()


def test_staff_selection_is_a_personal_preference(staff_client, staff_user, fake_openai):
    provider = fake_openai(allow_shared_for_normal_admins=True)
    model_id = model_ids(browse(staff_client, part="list").content.decode())[0]
    staff_client.post(reverse("aiadmin_console:select", args=["fake", "chat"]), {"model_id": model_id})
    assert not AIModel.objects.filter(provider=provider, is_active=True).exists()
    assert AdminProviderSettings.objects.get(admin=staff_user).preferred_models == {"chat": model_id}


SCOPE = re.compile(r'data-testid="select-scope">([^<]+)<')


def test_the_browser_tells_a_superadmin_a_selection_is_for_everyone(superuser_client, fake_openai):
    fake_openai()
    said = SCOPE.search(browse(superuser_client).content.decode()).group(1)
    assert said == "Select makes a model the chat model for everyone."


def test_the_browser_tells_staff_a_selection_is_their_own(staff_client, fake_openai):
    fake_openai(allow_shared_for_normal_admins=True)
    said = unescape(SCOPE.search(browse(staff_client).content.decode()).group(1))
    assert said.startswith("Select makes a model your own chat model") and "organisation's choice stays" in said


def test_selection_needs_post_and_csrf(fake_openai, superuser):
    from django.test import Client

    fake_openai()
    client = Client(enforce_csrf_checks=True)
    client.force_login(superuser)
    url = reverse("aiadmin_console:select", args=["fake", "chat"])
    assert client.get(url).status_code == 405
    assert client.post(url, {"model_id": "x"}).status_code == 403


def test_no_key_state_links_to_adding_one(staff_client, fake_openai):
    fake_openai()  # the shared key is not for normal admins
    html = browse(staff_client).content.decode()
    assert 'data-testid="browser-state-no_key"' in html and reverse("aiadmin_console:keys", args=["fake"]) in html


def test_rejected_key_state(superuser_client, fake_openai):
    fake_openai(shared_api_key="sk-wrong-000000000000000000")
    html = browse(superuser_client).content.decode()
    assert 'data-testid="browser-state-key_rejected"' in html and "sk-wrong" not in html


def test_unreachable_provider_offers_a_retry(superuser_client, fake_openai):
    fake_openai(api_base_url="http://127.0.0.1:9/v1")
    html = browse(superuser_client).content.decode()
    assert 'data-testid="browser-state-unreachable"' in html and "Retry" in html


def test_failed_refresh_keeps_the_last_good_list(superuser_client, fake_openai, fake_provider):
    fake_openai()
    browse(superuser_client)
    fake_provider.set_list_failure("error500")
    html = browse(superuser_client, refresh="1").content.decode()
    assert "Showing the last good list, fetched <time" in html and "model-" in html
    assert 'data-testid="stale-fetched-fake-chat">just now</time>' in html and "last good list fetched" in html


def test_selected_model_no_longer_offered_is_flagged(superuser_client, fake_openai):
    provider = fake_openai()
    AIModel.objects.create(provider=provider, capability="chat", model_id="retired-model", is_active=True)
    assert "is no longer offered" in browse(superuser_client).content.decode()


def test_model_names_and_descriptions_from_the_provider_render_inert(superuser_client, fake_openai):
    fake_openai()
    html = browse(superuser_client, q="xss", part="list").content.decode()
    assert "<script>" not in html and "<img src=x onerror" not in html and 'href="javascript:' not in html


def test_unknown_provider_is_404(superuser_client):
    assert browse(superuser_client, slug="nope").status_code == 404


def test_audio_browser_offers_speech_and_transcription_models_and_says_why_audio_chat_models_are_not(
    superuser_client, fake_openai
):
    fake_openai(capabilities={"chat": {"supported": True}, "audio": {"supported": True, "dynamic_models": True}})
    html = browse(superuser_client, capability="audio").content.decode()
    offered = model_ids(html)
    assert {"tts-1", "gpt-4o-mini-tts", "whisper-1", "gpt-4o-mini-transcribe"} <= set(offered)
    assert "gpt-4o-audio-preview" not in offered
    note = re.search(r'data-testid="not-offered-fake-audio">(.*?)</p>', html, re.S)
    assert note and "gpt-4o-audio-preview" in note.group(1) and "streamed chat completion" in unescape(note.group(1))
    # it is still a chat model
    assert "gpt-4o-audio-preview" in model_ids(browse(superuser_client, capability="chat", q="audio").content.decode())


def test_browser_flags_deprecated_models_and_leaves_out_retired_ones(superuser_client, fake_openai):
    fake_openai()
    html = browse(superuser_client, q="fake-retir", part="list").content.decode()
    assert model_ids(html) == ["fake-retiring"]  # fake-retired's expiration date has passed
    assert 'data-testid="deprecated-fake-retiring"' in html and "2999-12-31" in html
