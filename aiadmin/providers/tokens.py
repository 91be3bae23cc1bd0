"""API tokens: made, found and revoked (the HTTP API's authentication, SPEC section 2).

A token reads ``aia_<prefix>_<secret>``: the prefix (10 letters and digits) is stored as is and
finds the row; the secret (40 letters and digits, about 238 random bits) is never stored. The
row keeps the SHA-256 of the whole token; a presented token is checked by comparing hashes in
constant time, and an unknown prefix is compared against a dummy hash the same way, so the
time an answer takes says nothing about which part was wrong. A slow password hash would add
nothing here: the secret is random and long, not a password a person chose.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import string
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from aiadmin.adapters.types import CAPABILITIES

from .models import AIProvider, APIToken

TOKEN_PREFIX = "aia"
PREFIX_LENGTH = 10
SECRET_LENGTH = 40
_ALPHABET = string.ascii_letters + string.digits
TOKEN_PATTERN = re.compile(rf"^{TOKEN_PREFIX}_([A-Za-z0-9]{{{PREFIX_LENGTH}}})_([A-Za-z0-9]{{{SECRET_LENGTH}}})$")
# "Last used" is written at most this often per token (it is shown to the minute).
LAST_USED_RESOLUTION = dt.timedelta(seconds=60)
MAX_TOKENS_PER_ADMIN = 100
_DUMMY_HASH = hashlib.sha256(b"no such token").hexdigest()


class TokenError(Exception):
    """A token that may not be used; ``code`` says why (``invalid``, ``expired``,
    ``revoked``, ``inactive_user``)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class IssuedToken:
    token: APIToken
    plaintext: str  # shown once, never stored


@dataclass(frozen=True, slots=True)
class TokenGrant:
    """What a valid token lets its caller do: act as ``admin`` within the scopes."""

    token_id: int
    name: str
    admin: object
    capabilities: frozenset[str] | None  # None: every capability
    providers: frozenset[str] | None  # None: every provider the admin may use
    expires_at: dt.datetime | None

    def allows_capability(self, capability: str) -> bool:
        return self.capabilities is None or capability in self.capabilities

    def allows_provider(self, slug: str) -> bool:
        return self.providers is None or slug in self.providers


def token_hash(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode("utf-8", "surrogatepass")).hexdigest()


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def token_scopes_clean(*, capabilities: Iterable[str] = (), providers: Iterable[str] = ()) -> dict:
    """The scopes JSON for a token, refusing unknown capabilities and provider slugs."""
    capabilities = sorted(set(capabilities))
    unknown = [c for c in capabilities if c not in CAPABILITIES]
    if unknown:
        raise ValueError(f"Unknown capabilities: {', '.join(unknown)}. Use {', '.join(CAPABILITIES)}.")
    providers = sorted(set(providers))
    if providers:
        known = set(AIProvider.objects.filter(slug__in=providers).values_list("slug", flat=True))
        missing = [slug for slug in providers if slug not in known]
        if missing:
            raise ValueError(f"No provider has the slug {', '.join(missing)}.")
    scopes = {}
    if capabilities:
        scopes["capabilities"] = capabilities
    if providers:
        scopes["providers"] = providers
    return scopes


def token_create(
    *,
    admin,
    name: str,
    created_by=None,
    expires_at: dt.datetime | None = None,
    capabilities: Iterable[str] = (),
    providers: Iterable[str] = (),
) -> IssuedToken:
    """Make a token for ``admin``; the returned plaintext is the only copy there will be."""
    name = (name or "").strip()
    if not name:
        raise ValueError("Give the token a name that says what it is for.")
    if len(name) > 100:
        raise ValueError("The name is too long: at most 100 characters.")
    if expires_at is not None and expires_at <= timezone.now():
        raise ValueError("The expiry date is in the past.")
    if not (getattr(admin, "is_active", False) and getattr(admin, "is_staff", False)):
        raise ValueError(f"{admin} is not an active admin (staff) account: tokens act as an admin.")
    scopes = token_scopes_clean(capabilities=capabilities, providers=providers)
    with transaction.atomic():
        live = APIToken.objects.filter(admin=admin, revoked_at__isnull=True).count()
        if live >= MAX_TOKENS_PER_ADMIN:
            raise ValueError(f"{admin} already has {live} tokens: revoke one first.")
        while True:
            prefix = _random(PREFIX_LENGTH)
            if not APIToken.objects.filter(prefix=prefix).exists():
                break
        plaintext = f"{TOKEN_PREFIX}_{prefix}_{_random(SECRET_LENGTH)}"
        token = APIToken.objects.create(
            admin=admin,
            name=name,
            prefix=prefix,
            hash=token_hash(plaintext),
            scopes=scopes,
            expires_at=expires_at,
            created_by=created_by or admin,
        )
    return IssuedToken(token=token, plaintext=plaintext)


def token_revoke(*, token: APIToken) -> APIToken:
    """Revoke ``token`` (kept, so the ledger still names it). Revoking twice changes nothing."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def token_grant(*, plaintext: str, now: dt.datetime | None = None) -> TokenGrant:
    """Check a presented token against the database (sync; the API caches the answer for a
    moment, :mod:`aiadmin.api.auth`) and note its use. Raises :class:`TokenError`."""
    now = now or timezone.now()
    match = TOKEN_PATTERN.match(plaintext or "")
    presented = token_hash(plaintext or "")
    row = None
    if match:
        row = APIToken.objects.select_related("admin").filter(prefix=match.group(1)).order_by().first()
    # Compared even when there is no row, so both answers take the same time.
    if not hmac.compare_digest(row.hash if row is not None else _DUMMY_HASH, presented) or row is None:
        raise TokenError("The API token is not valid. Check it, or ask an admin for a new one.", code="invalid_api_key")
    if row.revoked_at is not None:
        raise TokenError("This API token was revoked. Ask an admin for a new one.", code="token_revoked")
    if row.expires_at is not None and row.expires_at <= now:
        raise TokenError("This API token has expired. Ask an admin for a new one.", code="token_expired")
    admin = row.admin
    if not (admin.is_active and admin.is_staff):
        raise TokenError(
            "The account this API token acts as is no longer an active admin.", code="inactive_user"
        )
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_RESOLUTION:
        APIToken.objects.filter(pk=row.pk).update(last_used_at=now)
    scope_caps, scope_providers = row.scope_capabilities, row.scope_providers
    return TokenGrant(
        token_id=row.pk,
        name=row.name,
        admin=admin,
        capabilities=frozenset(scope_caps) if scope_caps else None,
        providers=frozenset(scope_providers) if scope_providers else None,
        expires_at=row.expires_at,
    )


def token_admin_find(*, username: str):
    """The admin a token is made for, by username (the management command)."""
    User = get_user_model()
    try:
        return User._default_manager.get_by_natural_key(username)
    except User.DoesNotExist:
        raise ValueError(f"There is no user “{username}”.") from None


# --- Who may do what with tokens (the console's tokens page calls these) ---------------------


def _may_manage_tokens_of(*, actor, admin_id: int | None) -> bool:
    """An active admin manages their own tokens; a superadmin everyone's."""
    if not (getattr(actor, "is_active", False) and getattr(actor, "is_staff", False)):
        return False
    return actor.is_superuser or admin_id == actor.pk


def tokens_visible(*, actor, admin_id: int | None = None):
    """The tokens ``actor`` may see, newest first, with their admin and maker (one query):
    staff their own whatever ``admin_id`` says, a superadmin everyone's or ``admin_id``'s."""
    rows = APIToken.objects.select_related("admin", "created_by")
    if not (getattr(actor, "is_active", False) and getattr(actor, "is_staff", False)):
        return rows.none()
    if not actor.is_superuser:
        return rows.filter(admin_id=actor.pk).order_by("-created_at", "-pk")
    if admin_id is not None:
        rows = rows.filter(admin_id=admin_id)
    username = f"admin__{get_user_model().USERNAME_FIELD}"
    return rows.order_by(username, "admin_id", "-created_at", "-pk")


def _history(*, actor, token: APIToken, flag: int, message: str) -> None:
    # Admin history says who made or revoked a token (never the token: only its prefix).
    from django.contrib.admin.models import LogEntry

    LogEntry.objects.log_actions(
        user_id=actor.pk, queryset=[token], action_flag=flag, change_message=message, single_object=True
    )


def token_create_for(
    *,
    actor,
    admin,
    name: str,
    expires_at: dt.datetime | None = None,
    capabilities: Iterable[str] = (),
    providers: Iterable[str] = (),
) -> IssuedToken:
    """``actor`` makes a token for ``admin``: staff only for themselves, a superadmin for any
    admin (refused with ``PermissionDenied`` here, whichever view asked)."""
    from django.contrib.admin.models import ADDITION
    from django.core.exceptions import PermissionDenied

    if not _may_manage_tokens_of(actor=actor, admin_id=getattr(admin, "pk", None)):
        raise PermissionDenied("Only superadmins make API tokens for other admins.")
    with transaction.atomic():
        issued = token_create(
            admin=admin,
            name=name,
            created_by=actor,
            expires_at=expires_at,
            capabilities=capabilities,
            providers=providers,
        )
        whose = "" if admin.pk == actor.pk else f" for {admin}"
        _history(actor=actor, token=issued.token, flag=ADDITION, message=f"Made the API token aia_{issued.token.prefix}_…{whose}.")
    return issued


def token_revoke_by(*, actor, token: APIToken) -> APIToken:
    """``actor`` revokes ``token``: staff only their own, a superadmin anyone's."""
    from django.contrib.admin.models import CHANGE
    from django.core.exceptions import PermissionDenied

    if not _may_manage_tokens_of(actor=actor, admin_id=token.admin_id):
        raise PermissionDenied("You can revoke only your own API tokens.")
    was_live = token.revoked_at is None
    token = token_revoke(token=token)
    if was_live:
        _history(actor=actor, token=token, flag=CHANGE, message=f"Revoked the API token aia_{token.prefix}_….")
    return token
