"""The image playground: generation on the sandbox, stored files, gallery, owner-only downloads."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from aiadmin.playground.models import GeneratedImage
from aiadmin.providers import usage
from aiadmin.providers.models import AdminProviderLimit, AIProvider

pytestmark = pytest.mark.django_db

URL = reverse("aiadmin_console:image")
SANDBOX = "sandbox::sandbox-image"
PNG = b"\x89PNG\r\n\x1a\n"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


@pytest.fixture
def sandbox(db) -> AIProvider:
    call_command("import_providers", verbosity=0)  # the sandbox, its image model selected
    return AIProvider.objects.get(slug="sandbox")


def generate(client, **values):
    data = {"model": SANDBOX, "prompt": "A lighthouse at dusk", "size": "256x256", "quality": "", "count": 1, **values}
    return client.post(URL, data, **HTMX)


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302 and reverse("admin:login") in response["Location"]


def test_page_renders_for_staff_with_progress_state_and_sandbox_model(staff_client, sandbox):
    html = staff_client.get(URL).content.decode()
    assert 'hx-post="' + URL + '"' in html
    assert 'hx-indicator="#image-progress"' in html and "Generating…" in html
    assert 'hx-disabled-elt="#image-submit"' in html
    assert f'value="{SANDBOX}"' in html
    for size in ("256x256", "512x512", "1024x1024", "1024x1792", "1792x1024"):
        assert f'value="{size}"' in html


def test_generation_on_the_sandbox_stores_pngs_and_shows_them_in_the_gallery(staff_client, staff_user, sandbox, media_root):
    response = generate(staff_client, count=2)
    assert response.status_code == 200
    html = response.content.decode()
    images = list(GeneratedImage.objects.order_by("pk"))
    assert len(images) == 2
    for image in images:
        assert image.admin == staff_user and image.provider_slug == "sandbox" and image.model_id == "sandbox-image"
        assert image.prompt == "A lighthouse at dusk" and image.mime_type == "image/png"
        assert image.file.name.startswith("generated/") and image.file.name.endswith(".png")
        assert (media_root / image.file.name).read_bytes().startswith(PNG)
        assert reverse("aiadmin_console:image_file", args=[image.pk]) in html
        assert reverse("aiadmin_console:image_download", args=[image.pk]) in html
    assert "2 images from Sandbox" in html
    # The form keeps what was typed, for the next variation.
    assert "A lighthouse at dusk</textarea>" in html


def test_download_is_an_attachment_with_the_png(staff_client, sandbox):
    generate(staff_client)
    image = GeneratedImage.objects.get()
    response = staff_client.get(reverse("aiadmin_console:image_download", args=[image.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response.content.startswith(PNG)
    inline = staff_client.get(reverse("aiadmin_console:image_file", args=[image.pk]))
    assert inline.status_code == 200 and not inline["Content-Disposition"].startswith("attachment")


def test_gallery_shows_my_last_twelve_newest_first_and_not_other_admins(staff_client, staff_user, other_staff_user, sandbox):
    def row(admin, prompt):
        return GeneratedImage.objects.create(
            admin=admin, provider_slug="sandbox", model_id="sandbox-image", prompt=prompt, file="generated/x.png", mime_type="image/png"
        )

    mine = [row(staff_user, f"mine {number}") for number in range(14)]
    theirs = row(other_staff_user, "theirs")
    html = staff_client.get(URL).content.decode()
    shown = [image for image in mine if f'data-testid="image-{image.pk}"' in html]
    assert shown == mine[2:]
    assert html.index(f'data-testid="image-{mine[-1].pk}"') < html.index(f'data-testid="image-{mine[2].pk}"')
    assert f'data-testid="image-{theirs.pk}"' not in html


def test_another_admin_cannot_download_my_image(client, staff_client, staff_user, other_staff_user, superuser, sandbox):
    generate(staff_client)
    image = GeneratedImage.objects.get()
    client.force_login(other_staff_user)
    for name in ("aiadmin_console:image_download", "aiadmin_console:image_file"):
        assert client.get(reverse(name, args=[image.pk])).status_code == 404
    client.force_login(superuser)
    assert client.get(reverse("aiadmin_console:image_download", args=[image.pk])).status_code == 200


def test_limit_reached_gives_a_clear_message_and_keeps_the_prompt(staff_client, staff_user, sandbox):
    AdminProviderLimit.objects.create(
        admin=staff_user, provider=sandbox, monthly_limit=1, usage_month=usage.month_start(), usage_month_requests=1
    )
    response = generate(staff_client, prompt="A red bicycle")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'data-testid="image-error"' in html and "used all 1 requests" in html and "resets on" in html
    assert "A red bicycle</textarea>" in html
    assert not GeneratedImage.objects.exists()


def test_invalid_values_are_refused_and_the_form_keeps_them(staff_client, sandbox):
    html = generate(staff_client, prompt="Keep me", count=9).content.decode()
    assert "Keep me</textarea>" in html and "less than or equal to 4" in html
    assert not GeneratedImage.objects.exists()


def test_a_model_outside_the_picker_is_refused(staff_client, sandbox):
    html = generate(staff_client, model="elsewhere::expensive-model").content.decode()
    assert "Select a valid choice" in html
    assert not GeneratedImage.objects.exists()


def test_provider_errors_show_in_the_result_area(staff_client, sandbox, monkeypatch):
    from aiadmin.adapters import errors
    from aiadmin.playground import services

    async def refuse(*args, **kwargs):
        raise errors.BadRequestError("The provider refused this prompt.", provider="Sandbox")

    monkeypatch.setattr(services.service, "agenerate_image", refuse)
    html = generate(staff_client, prompt="Something").content.decode()
    assert "The provider refused this prompt." in html and "Something</textarea>" in html


def test_without_a_usable_image_model_the_page_says_what_to_do(staff_client, make_provider):
    html = staff_client.get(URL).content.decode()
    assert "No image model you can use is selected" in html


def test_a_plain_post_without_htmx_gets_the_whole_page(staff_client, sandbox):
    response = staff_client.post(URL, {"model": SANDBOX, "prompt": "Plain", "size": "256x256", "count": 1})
    html = response.content.decode()
    assert response.status_code == 200 and "<html" in html and GeneratedImage.objects.count() == 1


def test_a_file_a_provider_labels_as_html_is_never_served_inline(staff_client, staff_user, sandbox):
    from django.core.files.base import ContentFile

    image = GeneratedImage(admin=staff_user, provider_slug="sandbox", model_id="m", prompt="p", mime_type="text/html")
    image.file.save("evil.html", ContentFile(b"<script>alert(1)</script>"))
    response = staff_client.get(reverse("aiadmin_console:image_file", args=[image.pk]))
    assert response["Content-Type"] == "application/octet-stream"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "sandbox" in response["Content-Security-Policy"] and response["X-Content-Type-Options"] == "nosniff"
