"""API tokens in the console: each admin makes, sees and revokes their own (a superadmin
everyone's, and makes them for any admin). A new token's plaintext is rendered in the one POST
response that made it and nowhere else: not in the session, a message, a URL or a log.

Who may do what is decided by the services in :mod:`aiadmin.providers.tokens`; this module
reads the form, picks the template partial and keeps the list to a fixed number of queries.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django import forms
from django.contrib.auth import get_user_model
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince

from aiadmin.adapters.types import CAPABILITIES
from aiadmin.conf import aiadmin_time_zone
from aiadmin.providers.models import AIProvider, APIToken
from aiadmin.providers.tokens import IssuedToken, token_create_for, token_revoke_by, tokens_visible

from ..access import console_context, console_view

TEMPLATE = "aiadmin/console/tokens.html"
MAX_EXPIRY_DAYS = 3650
# The list shows at most this many tokens (a superadmin's view of every admin's); each admin
# has at most providers.tokens.MAX_TOKENS_PER_ADMIN live ones.
LIST_LIMIT = 500
_EXPIRY_RANGE = f"a whole number of days between 1 and {MAX_EXPIRY_DAYS}"


def _plain(label: str, **kwargs) -> dict:
    return {"label": label, "label_suffix": "", **kwargs}


class TokenForm(forms.Form):
    """A new token: its name, an optional expiry (in days, or a last day) and optional scopes.
    The ``admin`` field exists for superadmins only; staff always make tokens for themselves."""

    name = forms.CharField(
        max_length=100,
        help_text="What it is for, e.g. “billing service”.",
        error_messages={
            "required": "Give the token a name that says what it is for.",
            "max_length": "The name is too long: at most 100 characters.",
        },
        widget=forms.TextInput(attrs={"class": "ai-input", "autocomplete": "off", "maxlength": 100}),
        **_plain("Name"),
    )
    expires_days = forms.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        error_messages={key: f"Expires in: {_EXPIRY_RANGE}." for key in ("invalid", "min_value", "max_value")},
        widget=forms.NumberInput(attrs={"class": "ai-input", "min": 1, "max": MAX_EXPIRY_DAYS, "placeholder": "never"}),
        **_plain("Expires in (days)"),
    )
    expires_on = forms.DateField(
        required=False,
        error_messages={"invalid": "Valid until: a date like 2030-12-31."},
        widget=forms.DateInput(attrs={"class": "ai-input", "type": "date"}, format="%Y-%m-%d"),
        **_plain("or valid until (the end of that day)"),
    )
    capabilities = forms.MultipleChoiceField(
        required=False,
        choices=[(name, name.title()) for name in CAPABILITIES],
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: every capability.",
        error_messages={"invalid_choice": "Choose capabilities from the list."},
        **_plain("Capabilities"),
    )
    providers = forms.MultipleChoiceField(
        required=False,
        help_text="None chosen: every provider the admin may use.",
        error_messages={"invalid_choice": "Choose providers from the list."},
        widget=forms.SelectMultiple(attrs={"class": "ai-input", "size": 6}),
        **_plain("Providers"),
    )

    def __init__(self, *args, actor, providers: list[tuple[str, str]], admins: list[tuple[int, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.fields["providers"].choices = providers
        if actor.is_superuser:
            self.fields["admin"] = forms.TypedChoiceField(
                coerce=int,
                choices=admins,
                initial=actor.pk,
                error_messages={"invalid_choice": "Choose an admin from the list.", "required": "Choose the admin it is for."},
                widget=forms.Select(attrs={"class": "ai-input"}),
                help_text="The token acts as this admin: their keys, limits and access.",
                **_plain("For admin"),
            )
            self.order_fields(["admin", "name"])

    def clean(self) -> dict:
        cleaned = super().clean()
        days, last_day = cleaned.get("expires_days"), cleaned.get("expires_on")
        if days is not None and last_day is not None:
            self.add_error("expires_on", "Give the expiry in days or as a date, not both.")
        elif last_day is not None:
            today = timezone.localdate(timezone=aiadmin_time_zone())
            if last_day < today:
                self.add_error("expires_on", "That day is in the past.")
            elif last_day > today + dt.timedelta(days=MAX_EXPIRY_DAYS):
                self.add_error("expires_on", f"At most {MAX_EXPIRY_DAYS} days ahead.")
        return cleaned

    def expires_at(self) -> dt.datetime | None:
        days, last_day = self.cleaned_data.get("expires_days"), self.cleaned_data.get("expires_on")
        if days is not None:
            return timezone.now() + dt.timedelta(days=days)
        if last_day is not None:
            # Valid through that whole day where usage days are counted (AIADMIN["TIME_ZONE"]).
            return dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time.min, tzinfo=aiadmin_time_zone())
        return None

    def admin_chosen(self):
        """Whom the token is for: the actor, or for a superadmin the staff admin picked."""
        if not self.actor.is_superuser:
            return self.actor
        User = get_user_model()
        try:
            return User._default_manager.get(pk=self.cleaned_data["admin"], is_staff=True)
        except User.DoesNotExist:
            return None


@dataclass(frozen=True, slots=True)
class TokenRow:
    """One line of the list, worked out once (the template only prints it)."""

    token: APIToken
    state: str
    capabilities: tuple[str, ...]
    providers: tuple[str, ...]  # display names (the slug when the provider is gone)
    made_by: object | None  # who made it, when someone else made it for the admin
    last_used: str  # "never", "just now", "3 hours ago"


def _rows(tokens, provider_names: dict[str, str], now: dt.datetime) -> list[TokenRow]:
    return [
        TokenRow(
            token=token,
            state=token.state(now),
            capabilities=token.scope_capabilities,
            providers=tuple(provider_names.get(slug, slug) for slug in token.scope_providers),
            made_by=token.created_by if token.created_by_id not in (None, token.admin_id) else None,
            last_used=_ago(token.last_used_at, now),
        )
        for token in tokens
    ]


def _ago(moment: dt.datetime | None, now: dt.datetime) -> str:
    if moment is None:
        return "never"
    if now - moment < dt.timedelta(minutes=1):
        return "just now"  # "last used" is written once a minute (providers.tokens)
    return f"{timesince(moment, now, depth=1)} ago"


def _provider_choices() -> list[tuple[str, str]]:
    return [
        (slug, display_name or name)
        for slug, name, display_name in AIProvider.objects.order_by("sort_order", "name").values_list("slug", "name", "display_name")
    ]


def _admin_choices(actor) -> list[tuple[int, str]]:
    if not actor.is_superuser:
        return []
    User = get_user_model()
    field = User.USERNAME_FIELD
    return list(User._default_manager.filter(is_staff=True, is_active=True).order_by(field).values_list("pk", field))


# The largest id a database integer column holds: beyond it a lookup is an error, not "none".
MAX_ID = 2**63 - 1


def _id_or_none(value: str | None) -> int | None:
    try:
        number = int(value) if value else None
    except ValueError:
        return None
    return number if number is not None and 0 < number <= MAX_ID else None


def _api_url() -> str | None:
    """Where the chat completions endpoint is mounted in this project (None: nowhere)."""
    try:
        return reverse("aiadmin_api:chat_completions")
    except NoReverseMatch:
        return None


def _context(
    request: HttpRequest,
    *,
    form: TokenForm | None = None,
    issued: IssuedToken | None = None,
    choices: tuple[list, list] | None = None,
) -> dict:
    actor = request.user
    providers, admins = choices or (_provider_choices(), _admin_choices(actor))
    # Passed for everyone; tokens_visible ignores it unless the viewer is a superuser.
    admin_filter = _id_or_none(request.GET.get("admin")) if actor.is_superuser else None
    tokens = list(tokens_visible(actor=actor, admin_id=admin_filter)[: LIST_LIMIT + 1])
    api_url = _api_url()
    return {
        "form": form or TokenForm(actor=actor, providers=providers, admins=admins),
        "rows": _rows(tokens[:LIST_LIMIT], dict(providers), timezone.now()),
        "truncated": len(tokens) > LIST_LIMIT,
        "list_limit": LIST_LIMIT,
        "admins": admins,
        "admin_filter": admin_filter,
        "issued": issued,
        "api_url": request.build_absolute_uri(api_url) if api_url else None,
        # The API's root (the chat completions URL without its own path).
        "api_base": request.build_absolute_uri(api_url.removesuffix("chat/completions")) if api_url else None,
    }


@console_view
def tokens_view(request: HttpRequest) -> HttpResponse:
    """GET: the page (with HTMX, the list alone: the admin filter). POST: make a token."""
    if request.method == "POST":
        return _create(request)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET", "POST"])
    context = _context(request)
    if request.htmx and not request.htmx.history_restore_request:
        return render(request, f"{TEMPLATE}#token-list", context)
    return render(request, TEMPLATE, console_context(request, title="API tokens", **context))


def _create(request: HttpRequest) -> HttpResponse:
    actor = request.user
    providers, admins = _provider_choices(), _admin_choices(actor)
    form = TokenForm(request.POST, actor=actor, providers=providers, admins=admins)
    issued = None
    if form.is_valid():
        admin = form.admin_chosen()
        if admin is None:
            form.add_error("admin", "That admin no longer exists.")
        else:
            try:
                issued = token_create_for(
                    actor=actor,
                    admin=admin,
                    name=form.cleaned_data["name"],
                    expires_at=form.expires_at(),
                    capabilities=form.cleaned_data["capabilities"],
                    providers=form.cleaned_data["providers"],
                )
            except ValueError as err:  # past expiry, too many tokens, a provider deleted meanwhile...
                form.add_error(None, str(err))
    if issued is not None:
        form = None  # a fresh form under the new token
    context = _context(request, form=form, issued=issued, choices=(providers, admins))
    if request.htmx:
        return render(request, f"{TEMPLATE}#created-response" if issued else f"{TEMPLATE}#token-create", context)
    # Without JavaScript the page itself answers the POST: the token is shown in this response
    # only (a redirect would need to carry it somewhere).
    return render(request, TEMPLATE, console_context(request, title="API tokens", **context), status=200 if issued else 400)


@console_view
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    # Someone else's token is "missing" to staff: they cannot tell it exists.
    token = tokens_visible(actor=request.user).filter(pk=pk).first() if pk <= MAX_ID else None
    if token is None:
        raise Http404("No such API token.")
    token = token_revoke_by(actor=request.user, token=token)
    if not request.htmx:
        return redirect(reverse("aiadmin_console:tokens"))
    providers = dict(_provider_choices())
    [row] = _rows([token], providers, timezone.now())
    return render(request, f"{TEMPLATE}#token-row", {"row": row, "just_revoked": True})
