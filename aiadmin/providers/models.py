"""The domain: providers, the models an admin selected, per-admin settings and the usage
ledger. Names follow the specification's public vocabulary."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from aiadmin.adapters.registry import registry
from aiadmin.adapters.types import CAPABILITIES

from .endpoint_url import EndpointURLField
from .fields import Ciphertext, EncryptedSecretField, EncryptedSecretsMixin, SafeJSONField
from .schema import capability_flag, provider_broken_reason

CAPABILITY_CHOICES = [(capability, capability.title()) for capability in CAPABILITIES]


class AIProvider(EncryptedSecretsMixin, models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    name = models.CharField(max_length=100)
    display_name = models.CharField(max_length=150, blank=True)
    description = models.TextField(blank=True)
    # A registry key, not model choices: adapters come and go without migrations.
    adapter = models.CharField(max_length=64)
    # URL fields that also accept a single-label host (a docker-compose service name); whether
    # the base URL may point there is base_url_save_problem's call (the self-hosted mark).
    api_base_url = EndpointURLField("API base URL", max_length=500, blank=True)
    website = EndpointURLField(max_length=500, blank=True)
    docs_url = EndpointURLField("docs URL", max_length=500, blank=True)
    key_url = EndpointURLField("key URL", max_length=500, blank=True, help_text="Where to get an API key.")
    capabilities = SafeJSONField(default=dict, blank=True)
    config = SafeJSONField(default=dict, blank=True)
    shared_api_key = EncryptedSecretField()
    allow_personal_keys = models.BooleanField(default=True)
    allow_shared_for_normal_admins = models.BooleanField(
        "shared key usable by normal admins", default=False
    )
    is_active = models.BooleanField(default=True)
    sort_order = models.PositiveIntegerField(default=100)
    total_requests = models.PositiveBigIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    key_validated_at = models.DateTimeField(null=True, blank=True)
    key_validation_ok = models.BooleanField(null=True, blank=True)
    key_validation_message = models.CharField(max_length=500, blank=True)
    # The catalogue values last imported, so a re-import can tell admin edits from its own.
    catalogue_data = SafeJSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "AI provider"
        ordering = ["sort_order", "name"]
        indexes = [models.Index(fields=["is_active", "sort_order"], name="aiprovider_active_sort_idx")]

    def __str__(self) -> str:
        return self.display_name or self.name

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._loaded_base_url = instance.__dict__.get("api_base_url")
        return instance

    def save(self, *args, **kwargs):
        loaded_base_url = getattr(self, "_loaded_base_url", None)
        if (
            loaded_base_url is not None
            and self.api_base_url != loaded_base_url
            and isinstance(self.shared_api_key, Ciphertext)
        ):
            # Whoever edits the URL must not be able to ship the stored key to a server of
            # their choosing: the key has to be entered again.
            self.shared_api_key = ""
            if kwargs.get("update_fields") is not None:
                kwargs["update_fields"] = {*kwargs["update_fields"], "shared_api_key"}
        super().save(*args, **kwargs)
        self._loaded_base_url = self.api_base_url

    @property
    def adapter_available(self) -> bool:
        return self.adapter in registry

    @property
    def adapter_status(self) -> str:
        return "ok" if self.adapter_available else "adapter missing"

    def supports(self, capability: str) -> bool:
        return capability_flag(self.capabilities, capability, "supported", default=False)

    @property
    def broken_reason(self) -> str:
        """Why the stored JSON fields make the provider unusable; empty when they do not."""
        return provider_broken_reason(self)

    @property
    def supported_capabilities(self) -> list[str]:
        return [capability for capability in CAPABILITIES if self.supports(capability)]

    @property
    def shared_key_hint(self) -> str:
        return self.secret_hint("shared_api_key")


class AIModel(models.Model):
    """A model an admin selected for a capability; never a mirror of the provider catalogue."""

    provider = models.ForeignKey(AIProvider, on_delete=models.CASCADE, related_name="models")
    capability = models.CharField(max_length=16, choices=CAPABILITY_CHOICES)
    model_id = models.CharField(max_length=255)
    display_name = models.CharField(max_length=255, blank=True)
    is_free = models.BooleanField(default=False)
    pricing_input = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, help_text="Per million input tokens."
    )
    pricing_output = models.DecimalField(
        max_digits=14, decimal_places=6, null=True, blank=True, help_text="Per million output tokens."
    )
    context_window = models.PositiveIntegerField(null=True, blank=True)
    config = SafeJSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=False)
    total_requests = models.PositiveBigIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    selected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    selected_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "AI model"
        ordering = ["provider__sort_order", "provider__name", "capability", "model_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "capability"],
                condition=Q(is_active=True),
                name="aimodel_one_active_per_capability",
            ),
            models.UniqueConstraint(
                fields=["provider", "capability", "model_id"], name="aimodel_unique_model_per_capability"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.display_name or self.model_id} ({self.capability})"


class AdminProviderSettings(EncryptedSecretsMixin, models.Model):
    """What an admin chooses for a provider: personal key, shared-key choice, preferences.
    The admin may edit or delete it, so nothing a superadmin decides lives here: monthly
    limits are :class:`AdminProviderLimit` rows."""

    admin = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_provider_settings"
    )
    provider = models.ForeignKey(AIProvider, on_delete=models.CASCADE, related_name="admin_settings")
    personal_api_key = EncryptedSecretField()
    use_shared_api = models.BooleanField(
        "use the shared key", default=False, help_text="Use the organisation's key even if a personal key is set."
    )
    # Optional personal preference per capability: {"chat": "model-id", ...}.
    preferred_models = SafeJSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=True)
    total_requests = models.PositiveBigIntegerField(default=0)
    last_used_at = models.DateTimeField(null=True, blank=True)
    key_validated_at = models.DateTimeField(null=True, blank=True)
    key_validation_ok = models.BooleanField(null=True, blank=True)
    key_validation_message = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "admin provider settings"
        verbose_name_plural = "admin provider settings"
        ordering = ["provider__sort_order", "provider__name"]
        constraints = [
            models.UniqueConstraint(fields=["admin", "provider"], name="adminprovidersettings_unique_admin_provider")
        ]

    def __str__(self) -> str:
        return f"{self.admin} · {self.provider}"

    @property
    def personal_key_hint(self) -> str:
        return self.secret_hint("personal_api_key")


class AdminProviderLimit(models.Model):
    """A superadmin's monthly cap on one admin's requests to one provider, and the count that
    enforces it. Apart from :class:`AdminProviderSettings` on purpose: deleting, switching off
    or editing their own settings never lifts an admin's limit."""

    admin = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_provider_limits")
    provider = models.ForeignKey(AIProvider, on_delete=models.CASCADE, related_name="admin_limits")
    monthly_limit = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Requests per calendar month; empty means unlimited (requests are still counted).",
    )
    # The month (its first day, in AIADMIN["TIME_ZONE"]) and the requests counted in it,
    # updated by one conditional UPDATE so concurrent calls cannot overshoot.
    usage_month = models.DateField(null=True, blank=True, editable=False)
    usage_month_requests = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "monthly limit"
        # "admin" follows the user model's own ordering (its pk without one): a host's user
        # model may have no username field to sort by.
        ordering = ["provider__sort_order", "provider__name", "admin"]
        constraints = [
            models.UniqueConstraint(fields=["admin", "provider"], name="adminproviderlimit_unique_admin_provider")
        ]

    def __str__(self) -> str:
        return f"{self.admin} · {self.provider}"


class APIToken(models.Model):
    """A token another application calls the HTTP API with (``/v1/``), acting as ``admin``.

    The token itself is shown once when it is made and never stored: only ``prefix`` (short,
    random, not secret: how a presented token finds its row) and ``hash`` (SHA-256 of the whole
    token, compared in constant time). See :mod:`aiadmin.providers.tokens`.
    """

    admin = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. “billing service”.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    hash = models.CharField("hash of the token", max_length=64, editable=False)
    # {"capabilities": [...], "providers": [slugs]}; a missing or empty list: everything the
    # admin may use.
    scopes = SafeJSONField(default=dict, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Who made it: the admin, or a superadmin making it for them.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = "API token"
        verbose_name_plural = "API tokens"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["admin", "created_at"], name="apitoken_admin_idx")]

    def __str__(self) -> str:
        return f"{self.name} (aia_{self.prefix}_…)"

    @property
    def scope_capabilities(self) -> tuple[str, ...]:
        return tuple((self.scopes or {}).get("capabilities") or ())

    @property
    def scope_providers(self) -> tuple[str, ...]:
        return tuple((self.scopes or {}).get("providers") or ())

    def state(self, now=None) -> str:
        """``active``, ``revoked`` or ``expired``."""
        if self.revoked_at is not None:
            return "revoked"
        if self.expires_at is not None and self.expires_at <= (now or timezone.now()):
            return "expired"
        return "active"


class AIRequestLog(models.Model):
    """The usage ledger: one row per call, failures included."""

    class KeySource(models.TextChoices):
        PERSONAL = "personal", "Personal key"
        SHARED = "shared", "Shared key"
        NONE = "none", "No key"

    # status: "ok", "cancelled" (the admin stopped the call: Stop, a closed page; not an
    # error) or the error kind of a failed call.
    STATUS_OK = "ok"
    STATUS_CANCELLED = "cancelled"

    admin = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="ai_requests"
    )
    provider = models.ForeignKey(AIProvider, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests")
    model = models.ForeignKey(AIModel, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests")
    # Kept as text too, so the ledger still reads after a provider or model is deleted.
    provider_slug = models.CharField(max_length=64, blank=True)
    model_name = models.CharField("model id", max_length=255, blank=True)
    capability = models.CharField(max_length=16, choices=CAPABILITY_CHOICES)
    key_source = models.CharField(max_length=16, choices=KeySource.choices, default=KeySource.NONE)
    status = models.CharField(max_length=32, default="ok", help_text='"ok" or the error kind.')
    error_message = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(null=True, blank=True)
    time_to_first_token_ms = models.PositiveIntegerField(null=True, blank=True)
    input_tokens = models.PositiveIntegerField(null=True, blank=True)
    output_tokens = models.PositiveIntegerField(null=True, blank=True)
    estimated_cost = models.DecimalField(max_digits=14, decimal_places=8, null=True, blank=True)
    # The API token the call came through (None: the console or host code).
    api_token = models.ForeignKey(APIToken, on_delete=models.SET_NULL, null=True, blank=True, related_name="requests")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "AI request log entry"
        verbose_name_plural = "AI request log"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["admin", "provider", "created_at"], name="airequestlog_usage_idx"),
            models.Index(fields=["created_at"], name="airequestlog_created_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider_slug}/{self.model_name} {self.capability} {self.status}"

    @property
    def succeeded(self) -> bool:
        return self.status == "ok"
