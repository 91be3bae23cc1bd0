"""The bundled provider catalogue and its idempotent import."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from aiadmin.providers.catalogue import CATALOGUE_PATH, catalogue_load
from aiadmin.providers.models import AIModel, AIProvider

ADAPTER_FAMILIES = {"openai", "anthropic", "gemini", "huggingface", "sandbox"}


def run_import(*args: str) -> str:
    out = StringIO()
    call_command("import_providers", *args, stdout=out)
    return out.getvalue()


def write_catalogue(tmp_path, entries) -> str:
    path = tmp_path / "catalogue.json"
    path.write_text(json.dumps(entries))
    return str(path)


def entry(slug: str, **overrides) -> dict:
    values = {
        "slug": slug,
        "name": slug.title(),
        "adapter": "openai",
        "api_base_url": f"https://api.{slug}.example/v1",
        "capabilities": {"chat": {"supported": True, "dynamic_models": True}},
        "config": {"auth": {"style": "bearer"}},
    }
    values.update(overrides)
    return values


def test_bundled_catalogue_has_at_least_50_valid_providers():
    entries = catalogue_load(path=CATALOGUE_PATH)
    assert len(entries) >= 50
    assert len({e["slug"] for e in entries}) == len(entries)
    assert {e["adapter"] for e in entries} <= ADAPTER_FAMILIES


def test_every_catalogue_entry_says_whether_it_was_checked():
    for item in catalogue_load(path=CATALOGUE_PATH):
        verification = item["verification"]
        assert verification["status"] in {"checked", "unchecked"}, item["slug"]
        if verification["status"] == "unchecked":
            assert verification["note"], item["slug"]
        elif item["adapter"] != "sandbox":
            assert verification["sources"], item["slug"]


def test_self_hosted_families_may_use_private_networks():
    by_slug = {e["slug"]: e for e in catalogue_load(path=CATALOGUE_PATH)}
    for slug in ("ollama", "vllm", "lm-studio", "llama-cpp"):
        assert by_slug[slug]["config"].get("allow_private_network") is True, slug
    assert not by_slug["openai"]["config"].get("allow_private_network")


@pytest.mark.django_db
def test_import_is_idempotent_and_says_so():
    first = run_import()
    count = len(catalogue_load(path=CATALOGUE_PATH))
    assert f"{count} created, 0 updated, 0 unchanged" in first
    second = run_import()
    assert f"Nothing to do: 0 created, 0 updated, {count} unchanged" in second
    assert AIProvider.objects.count() == count


@pytest.mark.django_db
def test_sandbox_comes_with_its_models_selected():
    run_import()
    sandbox = AIProvider.objects.get(slug="sandbox")
    active = dict(AIModel.objects.filter(provider=sandbox, is_active=True).values_list("capability", "model_id"))
    assert set(active) == {"chat", "content", "image", "audio"}


@pytest.mark.django_db
def test_reimport_never_overwrites_keys_activation_sort_order_or_admin_edits(tmp_path):
    path = write_catalogue(tmp_path, [entry("acme", description="Original", docs_url="https://docs.acme.example")])
    run_import("--file", path)
    provider = AIProvider.objects.get(slug="acme")
    provider.shared_api_key = "sk-acme-shared-key-1234"
    provider.is_active = False
    provider.sort_order = 999
    provider.description = "Edited by an admin"
    provider.save()

    changed = [entry("acme", description="New catalogue text", docs_url="https://docs.acme.example/v2")]
    out = run_import("--file", write_catalogue(tmp_path, changed))
    assert "0 created, 1 updated, 0 unchanged" in out
    provider.refresh_from_db()
    assert provider.reveal_secret("shared_api_key") == "sk-acme-shared-key-1234"
    assert provider.is_active is False and provider.sort_order == 999
    assert provider.description == "Edited by an admin"  # the admin's edit wins
    assert provider.docs_url == "https://docs.acme.example/v2"  # untouched fields follow the catalogue


@pytest.mark.django_db
def test_hand_made_provider_with_a_catalogue_slug_is_left_alone(tmp_path):
    AIProvider.objects.create(slug="acme", name="Our Acme", adapter="openai", api_base_url="https://proxy.internal.example/v1")
    run_import("--file", write_catalogue(tmp_path, [entry("acme")]))
    provider = AIProvider.objects.get(slug="acme")
    assert provider.name == "Our Acme"
    assert provider.api_base_url == "https://proxy.internal.example/v1"


@pytest.mark.django_db
def test_malformed_entry_is_reported_with_slug_and_field_and_nothing_is_imported(tmp_path):
    entries = [
        entry("good-one"),
        entry("bad-one", api_base_url="ftp://files.example"),
        entry("worse", config={"auth": {"style": "header"}}),
    ]
    with pytest.raises(CommandError) as excinfo:
        run_import("--file", write_catalogue(tmp_path, entries))
    message = str(excinfo.value)
    assert "bad-one: api_base_url: must be an http(s) URL" in message
    assert "worse: config.auth.header: required for auth style 'header'" in message
    assert "nothing was imported" in message
    assert not AIProvider.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("bad", "expected"),
    [
        ({"slug": "Bad Slug"}, "slug: must be lowercase"),
        ({"capabilities": {"video": {"supported": True}}}, "capabilities.video: unknown capability"),
        ({"config": {"capability_rules": {"image": {"include": ["(unclosed"]}}}}, "is not a valid regular expression"),
        ({"default_models": {"chat": ""}}, "default_models: must map capabilities to model ids"),
    ],
)
def test_each_kind_of_malformed_field_is_named(tmp_path, bad, expected):
    with pytest.raises(CommandError) as excinfo:
        run_import("--file", write_catalogue(tmp_path, [{**entry("x"), **bad}]))
    assert expected in str(excinfo.value)


@pytest.mark.django_db
def test_duplicate_slugs_and_broken_json_are_reported(tmp_path):
    with pytest.raises(CommandError, match="dup: slug: appears more than once"):
        run_import("--file", write_catalogue(tmp_path, [entry("dup"), entry("dup")]))
    broken = tmp_path / "broken.json"
    broken.write_text("[{")
    with pytest.raises(CommandError, match="not valid JSON"):
        run_import("--file", str(broken))


@pytest.mark.django_db
def test_custom_catalogue_file_is_imported(tmp_path):
    out = run_import("--file", write_catalogue(tmp_path, {"providers": [entry("custom-one"), entry("custom-two")]}))
    assert "2 created, 0 updated, 0 unchanged" in out
    assert set(AIProvider.objects.values_list("slug", flat=True)) == {"custom-one", "custom-two"}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"[" * 100_000, "nested more than"), (b'[{"slug": "\xff"}]', "not valid UTF-8"), (b'[{"slug": "\\ud800"}]', "lone surrogate")],
)
def test_a_hostile_catalogue_file_is_reported_not_a_traceback(tmp_path, content, reason):
    hostile = tmp_path / "hostile.json"
    hostile.write_bytes(content)
    with pytest.raises(CommandError, match=reason):
        run_import("--file", str(hostile))
