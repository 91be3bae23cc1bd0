"""API tokens: made once, stored as a hash, found by prefix, refused when revoked or expired."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from aiadmin.providers import tokens
from aiadmin.providers.models import APIToken
from aiadmin.providers.tokens import TokenError, token_create, token_grant, token_revoke

pytestmark = pytest.mark.django_db


def test_a_token_is_shown_once_and_only_its_hash_and_prefix_are_stored(staff_user):
    issued = token_create(admin=staff_user, name="billing")
    plaintext = issued.plaintext
    assert tokens.TOKEN_PATTERN.match(plaintext)
    row = APIToken.objects.get()
    assert row.prefix in plaintext and row.hash == tokens.token_hash(plaintext)
    stored = " ".join(str(value) for value in APIToken.objects.values().get().values())
    assert plaintext not in stored and plaintext.rsplit("_", 1)[1] not in stored
    assert str(row) == f"billing (aia_{row.prefix}_…)"


def test_two_tokens_differ_in_prefix_and_secret(staff_user):
    first, second = (token_create(admin=staff_user, name=name).plaintext for name in ("a", "b"))
    assert first.split("_")[1] != second.split("_")[1] and first.split("_")[2] != second.split("_")[2]


def test_a_valid_token_grants_its_admin_and_scopes(staff_user, make_provider):
    make_provider(slug="openrouter")
    issued = token_create(admin=staff_user, name="s", capabilities=["chat"], providers=["openrouter"])
    grant = token_grant(plaintext=issued.plaintext)
    assert grant.admin == staff_user and grant.token_id == issued.token.pk
    assert grant.allows_capability("chat") and not grant.allows_capability("image")
    assert grant.allows_provider("openrouter") and not grant.allows_provider("openai")


def test_an_unscoped_token_allows_everything(staff_user):
    grant = token_grant(plaintext=token_create(admin=staff_user, name="all").plaintext)
    assert grant.capabilities is None and grant.providers is None
    assert grant.allows_capability("audio") and grant.allows_provider("anything")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # right prefix, wrong secret
        lambda t: "aia_" + "Z" * 10 + "_" + t.split("_")[2],  # unknown prefix
        lambda t: t + "x",  # wrong shape
        lambda t: "",
        lambda t: "Bearer " + t,
    ],
)
def test_a_wrong_token_is_refused_the_same_way(staff_user, mangle):
    plaintext = token_create(admin=staff_user, name="x").plaintext
    with pytest.raises(TokenError) as refused:
        token_grant(plaintext=mangle(plaintext))
    assert refused.value.code == "invalid_api_key"


def test_the_hash_is_compared_in_constant_time_even_without_a_row(staff_user, monkeypatch):
    compared = []
    real = tokens.hmac.compare_digest
    monkeypatch.setattr(tokens.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b))
    with pytest.raises(TokenError):
        token_grant(plaintext="aia_" + "Q" * 10 + "_" + "q" * 40)
    assert len(compared) == 1  # against the dummy hash: no shortcut for an unknown prefix


def test_revoked_expired_and_deactivated_tokens_are_refused_with_their_reason(staff_user):
    revoked = token_create(admin=staff_user, name="r")
    token_revoke(token=revoked.token)
    with pytest.raises(TokenError) as refused:
        token_grant(plaintext=revoked.plaintext)
    assert refused.value.code == "token_revoked"

    expiring = token_create(admin=staff_user, name="e", expires_at=timezone.now() + dt.timedelta(days=1))
    with pytest.raises(TokenError) as refused:
        token_grant(plaintext=expiring.plaintext, now=timezone.now() + dt.timedelta(days=2))
    assert refused.value.code == "token_expired"

    working = token_create(admin=staff_user, name="w")
    staff_user.is_staff = False
    staff_user.save()
    with pytest.raises(TokenError) as refused:
        token_grant(plaintext=working.plaintext)
    assert refused.value.code == "inactive_user"


def test_last_used_is_written_at_most_once_a_minute(staff_user, django_assert_num_queries):
    issued = token_create(admin=staff_user, name="u")
    now = timezone.now()
    token_grant(plaintext=issued.plaintext, now=now)
    issued.token.refresh_from_db()
    assert issued.token.last_used_at == now
    with django_assert_num_queries(1):  # the lookup only: last used is recent enough
        token_grant(plaintext=issued.plaintext, now=now + dt.timedelta(seconds=30))
    with django_assert_num_queries(2):
        token_grant(plaintext=issued.plaintext, now=now + dt.timedelta(seconds=61))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": " "}, "name"),
        ({"name": "x" * 101}, "too long"),
        ({"name": "x", "capabilities": ["chat", "telepathy"]}, "telepathy"),
        ({"name": "x", "providers": ["nope"]}, "nope"),
        ({"name": "x", "expires_at": dt.datetime(2000, 1, 1, tzinfo=dt.UTC)}, "past"),
    ],
)
def test_a_bad_token_request_says_what_is_wrong(staff_user, kwargs, message):
    with pytest.raises(ValueError, match=message):
        token_create(admin=staff_user, **kwargs)
    assert not APIToken.objects.exists()


def test_tokens_are_only_made_for_active_admins(django_user_model):
    user = django_user_model.objects.create_user("plain", password="pw-plain-123")
    with pytest.raises(ValueError, match="not an active admin"):
        token_create(admin=user, name="x")


def test_the_command_prints_the_token_alone_on_its_last_line(staff_user):
    out, err = io.StringIO(), io.StringIO()
    call_command("create_api_token", "--user", "staff", "--name", "ci", "--expires-days", "30", stdout=out, stderr=err)
    last = out.getvalue().rstrip("\n").splitlines()[-1]
    grant = token_grant(plaintext=last)
    assert grant.admin == staff_user and grant.expires_at > timezone.now() + dt.timedelta(days=29)
    assert last not in err.getvalue()  # the explanation goes elsewhere; the token only once


@pytest.mark.parametrize(
    "args, message",
    [
        (["--user", "nobody", "--name", "x"], "no user"),
        (["--user", "staff", "--name", "x", "--expires-days", "0"], "between"),
        (["--user", "staff", "--name", "x", "--capabilities", "chat,mind"], "mind"),
    ],
)
def test_the_command_refuses_bad_arguments_clearly(staff_user, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_api_token", *args, stdout=io.StringIO(), stderr=io.StringIO())
    assert not APIToken.objects.exists()
