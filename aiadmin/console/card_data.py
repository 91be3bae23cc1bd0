"""Plain dicts for the card templates.

The cards page renders every provider; Django's template engine resolves ``a.b`` by trying
a dict lookup first and falling back to attributes through an exception, so handing it
plain dicts with ready-made strings and URLs keeps a 100-card page fast. Logic stays in
:mod:`aiadmin.console.selectors`; this module only shapes its results.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from django.template.loader import get_template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince

from .selectors import CapabilityRow, ProviderCard

_SLUG, _CAPABILITY = "__slug__", "__capability__"

# The partials of cards.html that show one provider: a full card (ready to use), a compact
# tile (needs a key or setup), a table row (either group, table layout).
CARD, SETUP_TILE, TABLE_ROW = "provider-card", "setup-tile", "provider-row"


def relative_time(moment: datetime | None, *, now: datetime | None = None) -> str:
    """ "just now", "5 minutes ago", "3 hours ago": one unit, in words ("" for no moment)."""
    if moment is None:
        return ""
    now = now or timezone.now()
    if (now - moment).total_seconds() < 60:
        return "just now"
    return f"{timesince(moment, now, depth=1)} ago".replace("\xa0", " ")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class CardUrls:
    """URL patterns reversed once per page, filled per card by string replacement."""

    browser: str
    provider_change: str
    keys: str

    @classmethod
    def build(cls) -> CardUrls:
        return cls(
            browser=reverse("aiadmin_console:browser", args=[_SLUG, _CAPABILITY]),
            provider_change=reverse("admin:aiadmin_providers_aiprovider_change", args=[0]).replace("/0/", "/__pk__/"),
            keys=reverse("aiadmin_console:keys", args=[_SLUG]),
        )


def row_data(card: ProviderCard, row: CapabilityRow, urls: CardUrls) -> dict:
    slug = card.provider.slug
    return {
        "capability": row.capability,
        "supported": row.supported,
        "model": row.active_model_name,
        "preferred": row.preferred_model if row.preferred_model and row.preferred_model != row.active_model else "",
        "browse_url": (
            urls.browser.replace(_SLUG, slug).replace(_CAPABILITY, row.capability)
            if row.supported and row.dynamic_models and not card.adapter_missing
            else ""
        ),
        "dom_id": f"{slug}-{row.capability}",
        "drawer_title": f"{card.provider} · {row.capability} models",
    }


def card_data(card: ProviderCard, urls: CardUrls, *, is_superuser: bool) -> dict:
    """Everything one provider's card, tile or table row shows (the memo key: any value that
    changes the HTML is in here)."""
    provider = card.provider
    own = card.settings_row.total_requests if card.settings_row is not None else None
    rows = [row_data(card, row, urls) for row in card.capabilities]
    return {
        "slug": provider.slug,
        "name": str(provider),
        "initials": card.initials,
        "is_active": provider.is_active,
        "adapter": provider.adapter,
        "adapter_missing": card.adapter_missing,
        "ready": card.ready,
        "setup_reason": card.setup_reason,
        "state": str(card.decision.state),
        # Only a provider that takes a key gets a key badge (a keyless local server never
        # shows "shared key"); its label says whose key a call would use.
        "key_label": card.state_label if card.needs_key and card.ready else "",
        "reason": card.decision.reason,
        "broken": card.decision.state == "broken",
        "self_hosted": provider.self_hosted,
        # Whose counts: the provider's total is everyone's; the settings row holds the admin's own.
        "org_count": provider.total_requests,
        "org_requests": f"organisation: {_plural(provider.total_requests, 'request')}",
        "own_requests": f"you: {_plural(own, 'request')}" if own is not None else "",
        "last_used": f"last used {relative_time(provider.last_used_at)}" if provider.last_used_at else "never used",
        "settings_url": urls.provider_change.replace("__pk__", str(provider.pk)) if is_superuser else "",
        "key_url": provider.key_url,
        "keys_url": urls.keys.replace(_SLUG, provider.slug),
        "capabilities": " · ".join(row["capability"] for row in rows if row["supported"]),
        "rows": rows,
    }


CARD_HTML_CACHE_SIZE = 4096


class _CardContent:
    """``data`` with its content as the key. ``card_data`` builds every dict in one order and
    of plain values, so ``repr`` is a faithful key (and cheaper than sorted JSON)."""

    __slots__ = ("data", "key")

    def __init__(self, data: dict) -> None:
        self.data, self.key = data, repr(data)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _CardContent) and self.key == other.key


def card_html(data: dict, partial: str = CARD) -> SafeString:
    """The rendered ``partial`` (card, tile or table row) for ``data``, memoised on both: an
    unchanged card (same provider state, same admin view) is not rendered again; any change
    of content or layout makes a new key."""
    return _render_card(_CardContent(data), partial)


@functools.lru_cache(maxsize=CARD_HTML_CACHE_SIZE)
def _render_card(content: _CardContent, partial: str) -> SafeString:
    html = get_template(f"aiadmin/console/cards.html#{partial}").render({"card": content.data})
    return mark_safe(html)  # noqa: S308  (rendered by the auto-escaping template above)
