"""An admin's console preferences (the cards page layout). Each function reads or writes the
given admin's own row only: the views pass ``request.user``, never an id from the request."""

from __future__ import annotations

from .models import ConsolePreference

CardsLayout = ConsolePreference.CardsLayout


def cards_layout_get(*, admin) -> str:
    """One query; no row yet means the default (cards)."""
    layout = ConsolePreference.objects.filter(admin=admin).values_list("cards_layout", flat=True).first()
    return layout if layout in CardsLayout.values else CardsLayout.CARDS


def cards_layout_set(*, admin, layout: str) -> str:
    if layout not in CardsLayout.values:
        # The posted value is not echoed back: it is whatever a client chose to send.
        raise ValueError(f"Unknown layout: choose one of {', '.join(CardsLayout.values)}.")
    ConsolePreference.objects.update_or_create(admin=admin, defaults={"cards_layout": layout})
    return layout
