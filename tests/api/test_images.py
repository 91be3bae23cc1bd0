"""``POST /v1/images/generations``: OpenAI's request and ImagesResponse over the sandbox and,
with real HTTP upstream, the fake OpenAI-compatible provider."""

from __future__ import annotations

import base64

import pytest
from asgiref.sync import sync_to_async
from openai.types import ImagesResponse

from aiadmin.playground.models import GeneratedImage
from aiadmin.providers.models import AIRequestLog
from aiadmin.providers.tokens import token_create

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/v1/images/generations"
PNG = b"\x89PNG\r\n\x1a\n"


def _rows(**filters):
    return sync_to_async(lambda: list(AIRequestLog.objects.filter(**filters).values()))()


async def test_generates_b64_json_images_as_the_sdk_types_them_and_records_the_token(api_call, issued):
    response = await api_call(URL, {"prompt": "A lighthouse at dusk", "n": 2, "size": "256x256"})
    assert response.status_code == 200, response.content
    images = ImagesResponse.model_validate(response.json())
    assert len(images.data) == 2
    for image in images.data:
        assert base64.b64decode(image.b64_json).startswith(PNG)
        assert image.url is None and image.revised_prompt is None
    (row,) = await _rows()
    assert row["api_token_id"] == issued.token.pk
    assert row["capability"] == "image" and row["status"] == "ok" and row["model_name"] == "sandbox-image"


async def test_model_given_as_the_capability_or_its_id_is_resolved(api_call):
    for model in ("image", "default", "sandbox", "sandbox/sandbox-image", "sandbox-image"):
        response = await api_call(URL, {"prompt": "A cat", "model": model})
        assert response.status_code == 200, (model, response.content)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({}, "prompt"),
        ({"prompt": "   "}, "prompt"),
        ({"prompt": 7}, "prompt"),
        ({"prompt": "x" * 32_001}, "prompt"),
        ({"prompt": "A cat", "n": 0}, "n"),
        ({"prompt": "A cat", "n": 11}, "n"),
        ({"prompt": "A cat", "n": "2"}, "n"),
        ({"prompt": "A cat", "size": "big"}, "size"),
        ({"prompt": "A cat", "quality": "ultra"}, "quality"),
        ({"prompt": "A cat", "response_format": "png"}, "response_format"),
        ({"prompt": "A cat", "style": "vivid"}, "style"),
        ({"prompt": "A cat", "model": 5}, "model"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field(api_call, body, param):
    response = await api_call(URL, body)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error" and error["message"]
    assert await _rows() == []  # refused before any call


async def test_a_body_that_is_not_json_is_a_400(async_client, auth):
    response = await async_client.post(URL, "prompt=cat", content_type="application/x-www-form-urlencoded", headers=auth)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_content_type"


async def test_an_unknown_model_is_a_404_listing_the_ids_that_work(api_call):
    response = await api_call(URL, {"prompt": "A cat", "model": "sandbox/dall-e-9"})
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "model_not_found" and error["param"] == "model"
    assert "sandbox/sandbox-image" in error["message"]
    assert "sandbox/sandbox-chat" not in error["message"]  # only the image models


async def test_a_token_scoped_to_another_capability_is_a_403(api_call, staff_user, sandbox):
    issued = await sync_to_async(token_create)(admin=staff_user, name="chat only", capabilities=["chat"])
    response = await api_call(URL, {"prompt": "A cat"}, headers={"Authorization": f"Bearer {issued.plaintext}"})
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "outside_token_scope"


@pytest.mark.parametrize("header", [None, "Bearer not-a-token", "Basic abc"])
async def test_a_missing_or_wrong_token_is_a_401(api_call, sandbox, header):
    response = await api_call(URL, {"prompt": "A cat"}, headers={} if header is None else {"Authorization": header})
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_url_is_refused_when_the_storage_gives_no_fetchable_url(api_call):
    # The test settings store on the local disk with a relative MEDIA_URL, as the project does.
    response = await api_call(URL, {"prompt": "A cat", "response_format": "url"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "response_format" and "b64_json" in error["message"]
    assert await _rows() == []  # refused before generating (and paying for) anything


async def test_url_answers_the_stored_images_urls_when_the_storage_gives_them(api_call, settings, tmp_path, staff_user):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MEDIA_URL = "https://media.example.com/aiadmin/"
    response = await api_call(URL, {"prompt": "A cat", "n": 2, "response_format": "url"})
    assert response.status_code == 200, response.content
    images = ImagesResponse.model_validate(response.json())
    stored = await sync_to_async(lambda: list(GeneratedImage.objects.filter(admin=staff_user).order_by("pk")))()
    assert len(stored) == 2
    assert sorted(image.url for image in images.data) == sorted(f"https://media.example.com/aiadmin/{row.file.name}" for row in stored)
    assert all(image.b64_json is None for image in images.data)


async def test_answers_too_many_image_bytes_with_a_502_not_a_huge_body(api_call, monkeypatch):
    monkeypatch.setattr("aiadmin.api.images.MAX_RESPONSE_IMAGE_BYTES", 100)
    response = await api_call(URL, {"prompt": "A cat"})
    assert response.status_code == 502
    assert response.json()["error"]["code"] == "upstream_response_too_large"
    assert len(response.content) < 1000


async def test_through_the_fake_openai_provider_over_http(api_call, fake_openai, fake_provider, issued):
    await sync_to_async(fake_openai)(image="gpt-image-1")
    response = await api_call(URL, {"prompt": "A lighthouse", "n": 2, "size": "256x256", "model": "fake-openai/gpt-image-1"})
    assert response.status_code == 200, response.content
    images = ImagesResponse.model_validate(response.json())
    assert [base64.b64decode(image.b64_json)[:8] for image in images.data] == [PNG, PNG]
    assert len(fake_provider.requests_to("/images/generations")) == 1
    (row,) = await _rows()
    assert row["api_token_id"] == issued.token.pk and row["provider_slug"] == "fake-openai"


async def test_a_key_in_a_provider_error_never_reaches_the_body(api_call, fake_openai):
    planted = "sk-planted-0123456789abcdef0123456789abcdef"
    await sync_to_async(fake_openai)(key=planted, image="gpt-image-1")
    response = await api_call(URL, {"prompt": "A lighthouse", "model": "fake-openai/gpt-image-1"})
    assert response.status_code == 502  # the provider refused the organisation's key
    assert response.json()["error"]["code"] == "upstream_auth_failed"
    assert planted.encode() not in response.content
    assert b"Traceback" not in response.content


async def test_url_when_the_storage_fails_is_a_503_saying_so(api_call, settings, tmp_path, monkeypatch):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.MEDIA_URL = "https://media.example.com/aiadmin/"

    def fail(**kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("aiadmin.api.views.images.images_store", fail)
    response = await api_call(URL, {"prompt": "A cat", "response_format": "url"})
    assert response.status_code == 503
    error = response.json()["error"]
    assert error["code"] == "storage_unavailable" and "b64_json" in error["message"]
    assert response["x-should-retry"] == "false"  # generated and paid for: a blind retry pays again
