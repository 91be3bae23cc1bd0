from io import StringIO

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db(transaction=True)


def test_check_providers_validates_shared_keys_and_stores_the_result(scripted_provider, superuser):
    good = scripted_provider(slug="good", shared_api_key="sk-good-key-0000000001")
    bad = scripted_provider(slug="bad", shared_api_key="sk-bad-key-00000000002", script={"list_fails": True})
    scripted_provider(slug="keyless")  # no shared key: not checked
    out = StringIO()
    call_command("check_providers", stdout=out)
    text = out.getvalue()
    assert "ok   good" in text and "FAIL bad" in text and "2 provider(s) checked, 1 failed." in text
    good.refresh_from_db()
    bad.refresh_from_db()
    assert good.key_validation_ok is True and bad.key_validation_ok is False
    assert "sk-bad-key" not in text
