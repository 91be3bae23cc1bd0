"""The console's own state: per-admin display preferences, in the database so that they follow
the admin across devices and workers (nothing correct lives in process memory or the session)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ConsolePreference(models.Model):
    class CardsLayout(models.TextChoices):
        CARDS = "cards", "Cards"
        TABLE = "table", "Table"

    admin = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="aiadmin_console_preference"
    )
    cards_layout = models.CharField(max_length=10, choices=CardsLayout.choices, default=CardsLayout.CARDS)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "console preference"
        verbose_name_plural = "console preferences"

    def __str__(self) -> str:
        return f"{self.admin}: {self.cards_layout}"
