from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

pytestmark = pytest.mark.django_db(transaction=True)


def test_check_providers_validates_shared_keys_and_stores_the_result(scripted_provider, superuser):
    good = scripted_provider(slug="good", shared_api_key="sk-good-key-0000000001")
    bad = scripted_provider(slug="bad", shared_api_key="sk-bad-key-00000000002", script={"list_fails": True})
    scripted_provider(slug="keyless")  # no shared key: not checked
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("check_providers", stdout=out)
    text = out.getvalue()
    assert "ok   good" in text and "FAIL bad" in text and "2 provider(s) checked, 1 failed." in text
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.key_validation_ok is True and bad.key_validation_ok is False
    assert "sk-bad-key" not in text


def test_check_providers_exits_non_zero_when_a_check_fails(scripted_provider, superuser):
    """Cron and monitoring alert on the exit status: a failed key check must not exit 0."""
    scripted_provider(slug="good", shared_api_key="sk-good-key-0000000001")
    scripted_provider(slug="bad", shared_api_key="sk-bad-key-00000000002", script={"list_fails": True})
    with pytest.raises(CommandError) as raised:
        call_command("check_providers", stdout=StringIO())
    assert raised.value.returncode == 1
    assert "1 provider check(s) failed" in str(raised.value)


def test_check_providers_exits_zero_when_every_check_passes(scripted_provider, superuser):
    scripted_provider(slug="good", shared_api_key="sk-good-key-0000000001")
    scripted_provider(slug="also-good", shared_api_key="sk-good-key-0000000002")
    out = StringIO()
    call_command("check_providers", stdout=out)  # no CommandError: the process exits 0
    assert "2 provider(s) checked, 0 failed." in out.getvalue()


def test_check_providers_fails_for_a_named_provider_it_could_not_check(scripted_provider, superuser):
    scripted_provider(slug="good", shared_api_key="sk-good-key-0000000001")
    scripted_provider(slug="keyless")
    out = StringIO()
    with pytest.raises(CommandError) as raised:
        call_command("check_providers", "good", "keyless", "no-such-slug", stdout=out)
    assert raised.value.returncode == 1
    text = out.getvalue()
    assert "FAIL keyless" in text and "FAIL no-such-slug" in text and "1 provider(s) checked, 2 failed." in text
