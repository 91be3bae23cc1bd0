"""Admin forms. Secrets are write-only: the input never renders a value (plaintext or
ciphertext), an empty input keeps the stored key, clearing is an explicit checkbox."""

from __future__ import annotations

import json
import re

from django import forms
from django.db import models
from unfold.widgets import (
    UnfoldAdminPasswordWidget,
    UnfoldAdminSelectWidget,
    UnfoldAdminTextareaWidget,
    UnfoldAdminTextInputWidget,
    UnfoldBooleanWidget,
)

from aiadmin.adapters.registry import registry
from aiadmin.adapters.types import CAPABILITIES
from aiadmin.adapters.urlguard import base_url_save_problem

from .access import shared_key_permitted
from .fields import SafeJSONFormField
from .form_fields import HeaderRowsField
from .models import AdminProviderLimit, AdminProviderSettings, AIProvider
from .schema import AUTH_STYLES, config_allows_private_network, provider_json_problems
from .structured_config import (
    GROUPS,
    STRUCTURED_FIELDS,
    capability_field,
    field_of_path,
    group_of_path,
    provider_json_merge,
    rule_field,
    structured_values,
)

_KEY_RE = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces


def write_only_secret_field(label: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        max_length=4096,
        widget=UnfoldAdminPasswordWidget(attrs={"autocomplete": "new-password"}, render_value=False),
    )


def clear_secret_field(label: str) -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False, widget=UnfoldBooleanWidget())


class SecretFieldsFormMixin:
    """For each name in ``secret_fields``, the form has an input of that name and a
    ``clear_<name>`` checkbox; ``save`` applies them to the model's encrypted field."""

    secret_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for name in self.secret_fields:
            hint = self.instance.secret_hint(name) if self.instance.pk else ""
            self.fields[name].help_text = (
                f"Currently set: {hint}. Leave empty to keep it; it is never shown again."
                if hint
                else "Not set. Saved keys are encrypted and never shown again."
            )

    def clean(self):
        cleaned = super().clean()
        for name in self.secret_fields:
            value = cleaned.get(name) or ""
            if value and not _KEY_RE.match(value):
                self.add_error(name, "A key is one line of printable characters without spaces.")
            if value and cleaned.get(f"clear_{name}"):
                self.add_error(name, "Either enter a new key or tick “clear”, not both.")
        return cleaned

    def apply_secrets(self, instance) -> None:
        for name in self.secret_fields:
            if self.cleaned_data.get(f"clear_{name}"):
                setattr(instance, name, "")
            elif self.cleaned_data.get(name):
                setattr(instance, name, self.cleaned_data[name])

    def save(self, commit: bool = True):
        instance = super().save(commit=False)
        self.apply_secrets(instance)
        if commit:
            instance.save()
            self._save_m2m()
        return instance


def _https_by_default(db_field, **kwargs):
    if isinstance(db_field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return db_field.formfield(**kwargs)


def adapter_choices(current: str | None = None) -> list[tuple[str, str]]:
    choices = registry.choices()
    if current and current not in registry:
        choices.append((current, f"{current} (adapter missing)"))
    return choices


def _provider_write_problems(form: forms.ModelForm) -> list[tuple[str, str]]:
    """(field, message) for the provider's JSON fields and base URL as the form would save
    them (the posted value, or the stored one for a field the form leaves out)."""
    def value(name: str):
        return form.cleaned_data[name] if name in form.cleaned_data else getattr(form.instance, name)

    route = getattr(form, "problem_field", lambda path, field: field)
    problems = [
        (route(problem.path, problem.field), str(problem))
        for problem in provider_json_problems(
            capabilities=value("capabilities"), config=value("config"), adapter=value("adapter")
        )
    ]
    base_url = value("api_base_url")
    if base_url and "config" not in form.errors and "config" not in dict(problems):
        problem = base_url_save_problem(base_url, allow_private_network=config_allows_private_network(value("config")))
        if problem:
            problems.append(("api_base_url", problem))
    return problems


class AIProviderForm(SecretFieldsFormMixin, forms.ModelForm):
    secret_fields = ("shared_api_key",)
    shared_api_key = write_only_secret_field("Shared API key")
    clear_shared_api_key = clear_secret_field("Clear the shared key")
    adapter = forms.ChoiceField(widget=UnfoldAdminSelectWidget())

    class Meta:
        model = AIProvider
        # The encrypted column is never a model form field; the declared input stands in.
        exclude = ("shared_api_key",)
        formfield_callback = _https_by_default

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "adapter" in self.fields:
            self.fields["adapter"].choices = adapter_choices(self.instance.adapter if self.instance.pk else None)
            self.fields["adapter"].help_text = "The API family this provider speaks (from the adapter registry)."
        if "api_base_url" in self.fields:
            self.fields["api_base_url"].help_text = (
                "Changing the base URL clears the shared key: enter the key again with the new URL."
            )

    def clean(self):
        cleaned = super().clean()
        invalid_already = set(self.errors)  # e.g. not JSON at all: that message says enough
        for field, message in _provider_write_problems(self):
            if field in self.fields and field not in invalid_already:
                self.add_error(field, message)
        return cleaned


# ------------------------------------------------------------------ the structured provider form
# The admin's add/change form: the JSON fields as form fields (aiadmin/providers/structured_config.py
# says which side wins when both are edited), the raw JSON kept under "Advanced".

DEFAULT_ADAPTER = "openai"  # OpenAI-compatible: what most providers (55 of the catalogue's 59) speak

AUTH_STYLE_CHOICES = [
    ("bearer", "Bearer token (Authorization: Bearer <key>)"),
    ("header", "The key in a header of its own"),
    ("query", "The key in a query parameter"),
    ("none", "No key (a local server)"),
]
assert [style for style, _label in AUTH_STYLE_CHOICES] == list(AUTH_STYLES)

_RULES_HELP = "One regular expression per line, matched against model ids (case-insensitive)."


def _flag(label: str, help_text: str = "") -> forms.BooleanField:
    return forms.BooleanField(label=label, required=False, help_text=help_text, widget=UnfoldBooleanWidget())


def _text(label: str, help_text: str, placeholder: str = "", max_length: int = 500) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, max_length=max_length, help_text=help_text,
        widget=UnfoldAdminTextInputWidget(attrs={"placeholder": placeholder, "autocomplete": "off", "spellcheck": "false"}),
    )


def _patterns(label: str, example: str) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, strip=False, max_length=100_000,
        help_text=f"{_RULES_HELP} Example: {example}",
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2, "spellcheck": "false", "class": "aiadmin-patterns"}),
    )


_RULE_EXAMPLES = {
    "exclude": ("Never offer (any capability)", "embed, moderation"),
    "chat_include": ("Chat: only", "^gpt-, ^claude-"),
    "chat_exclude": ("Chat: never", "^tts, whisper, ^dall-e"),
    "content_include": ("Content: only", "^gpt-4"),
    "content_exclude": ("Content: never", "mini$"),
    "image_include": ("Image: only", "^dall-e, ^gpt-image, flux"),
    "image_exclude": ("Image: never", "edit$"),
    "audio_include": ("Audio: only", "^tts, whisper, transcribe"),
    "audio_exclude": ("Audio: never", "realtime"),
}


def _structured_fields() -> dict[str, forms.Field]:
    fields: dict[str, forms.Field] = {}
    for capability in CAPABILITIES:
        fields[capability_field(capability, "supported")] = _flag(f"{capability.title()}", f"The provider offers {capability}.")
        fields[capability_field(capability, "dynamic_models")] = _flag(
            "Model list from the provider", f"The {capability} models are read from the provider's model list (else typed by hand)."
        )
    fields["auth_style"] = forms.ChoiceField(
        label="How the key is sent", choices=AUTH_STYLE_CHOICES, initial="bearer", required=False, widget=UnfoldAdminSelectWidget()
    )
    fields["auth_header"] = _text("Header name", "For a key in a header of its own, e.g. x-api-key or api-key.", "x-api-key", 200)
    fields["auth_prefix"] = _text("Header value prefix", "Optional text before the key in that header, with any space it needs, e.g. \u201cToken \u201d.", "", 200)
    fields["auth_param"] = _text("Query parameter", "For a key in a query parameter, e.g. key (a header is safer: URLs end up in logs).", "key", 200)
    fields["extra_headers"] = HeaderRowsField(
        label="Extra headers", required=False,
        help_text="Sent with every call, e.g. anthropic-version: 2023-06-01 or X-Title: aiadmin. Never put a key here.",
    )
    fields["models_path"] = _text(
        "Models path", "Where the model list is, relative to the base URL (e.g. /models) or a full URL. Empty: the adapter's default.", "/models"
    )
    for scope, (label, example) in _RULE_EXAMPLES.items():
        fields[rule_field(scope)] = _patterns(label, example)
    fields["default_params"] = SafeJSONFormField(
        label="Default parameters", required=False, initial=dict,
        help_text='A JSON object sent with every call unless the call sets the parameter, e.g. {"temperature": 0.7} or {"max_tokens": 4096}.',
        widget=UnfoldAdminTextareaWidget(attrs={"rows": 2, "spellcheck": "false"}),
    )
    fields["allow_private_network"] = _flag(
        "Self-hosted on our network",
        "Tick for a server on the organisation's own network (Ollama, vLLM, LM Studio, a docker-compose service): "
        "its base URL may then be a private address or a local name. Leave it off for anything on the internet.",
    )
    return fields


class PrettyJSONFormField(SafeJSONFormField):
    """The Advanced JSON, indented so it can be read and edited."""

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value  # what the admin typed, as typed
        return json.dumps(value, ensure_ascii=False, indent=2, cls=self.encoder)


class AIProviderAdminForm(AIProviderForm):
    """The provider form of the admin: the adapter family first (OpenAI-compatible unless
    chosen otherwise), the JSON fields as structured fields, the raw JSON under Advanced.
    Both go through the one schema (:func:`~.schema.provider_json_problems`)."""

    capabilities = PrettyJSONFormField(label="Capabilities", required=False, widget=UnfoldAdminTextareaWidget)
    config = PrettyJSONFormField(label="Config", required=False, widget=UnfoldAdminTextareaWidget)

    class Media:
        js = ("aiadmin/providers/provider_form.js",)
        css = {"all": ("aiadmin/providers/provider_form.css",)}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "adapter" in self.fields:
            self.fields["adapter"].label = "Adapter family"
            if self.instance.pk is None and DEFAULT_ADAPTER in registry:
                self.fields["adapter"].initial = DEFAULT_ADAPTER
        for name in ("capabilities", "config"):
            if name in self.fields:
                # The JSON the page showed comes back with the post: what "changed" means (below).
                self.fields[name].show_hidden_initial = True
                self.fields[name].widget.attrs.setdefault("rows", 8 if name == "capabilities" else 16)
                self.fields[name].widget.attrs.setdefault("spellcheck", "false")
        if "capabilities" in self.fields:
            self.fields["capabilities"].help_text = (
                'Advanced: {"chat": {"supported": true, "dynamic_models": true}, ...}. Checked by the same rules as the fields above.'
            )
        if "config" in self.fields:
            self.fields["config"].help_text = (
                "Advanced: every key the adapter reads, also those without a field above (parameter_rules, "
                "max_tokens_param...). A field above that you change replaces its key here; keys without a field are kept."
            )
        shown_capabilities, shown_config = self._shown_json()
        for name, value in structured_values(capabilities=shown_capabilities, config=shown_config).items():
            self.initial.setdefault(name, value)

    def _initial_json(self, name: str):
        value = self.initial.get(name, getattr(self.instance, name, None))
        return value if value is not None else {}

    def _shown_json(self) -> tuple:
        """The capabilities and config the page was rendered with: for a post, the copies it
        sent back (hidden initial inputs), else the form's initial values."""
        shown = []
        for name in ("capabilities", "config"):
            value = self._initial_json(name)
            if self.is_bound and name in self.fields:
                raw = self.data.get(self.add_initial_prefix(name))
                if raw is not None:
                    try:
                        value = self.fields[name].to_python(raw)
                    except forms.ValidationError:
                        pass  # a tampered copy: compare with the stored value instead
            shown.append(value)
        return tuple(shown)

    def clean_auth_style(self) -> str:
        return self.cleaned_data.get("auth_style") or "bearer"

    @property
    def structured_posted(self) -> bool:
        """Whether the post came from this form (a script posting only the JSON fields, as
        before the structured form, gets them saved as posted)."""
        return self.is_bound and "auth_style" in self.data and all(
            self.add_initial_prefix(name) in self.data for name in ("capabilities", "config")
        )

    def clean(self):
        self._json_source: dict[str, str] = {}
        if self.structured_posted and not {"capabilities", "config"} & set(self.errors):
            self._merge_structured()
        cleaned = super().clean()
        if "api_base_url" in self.errors:  # say where the mark is on this form
            hint = ' On this form: tick "Self-hosted on our network" under Connection.'
            self.errors["api_base_url"] = self.error_class(
                [message + hint if "allow_private_network" in message else message for message in self.errors["api_base_url"]]
            )
        return cleaned

    def _merge_structured(self) -> None:
        # The fields are cleaned (the JSON fields hold valid JSON here); the merge writes the two JSON values.
        cleaned = self.cleaned_data
        shown_capabilities, shown_config = self._shown_json()
        shown = structured_values(capabilities=shown_capabilities, config=shown_config)
        # A field with its own error counts as unchanged: its error says enough.
        posted = {name: (shown[name] if name in self.errors else cleaned.get(name)) for name in STRUCTURED_FIELDS}
        merged = provider_json_merge(
            posted=posted, shown=shown,
            capabilities=cleaned.get("capabilities"), config=cleaned.get("config"),
            shown_capabilities=shown_capabilities, shown_config=shown_config,
        )
        for group in merged.conflicts:
            self.add_error(
                GROUPS[group][0],
                f"{group} was changed here and in the Advanced JSON, to different values. Make the two agree, "
                "or set one of them back to what it was.",
            )
        cleaned["capabilities"], cleaned["config"] = merged.capabilities, merged.config
        self._json_source = merged.source

    def problem_field(self, path: str, field: str) -> str:
        """Where a schema problem is shown: on the structured field that wrote the value, else
        on the Advanced JSON field."""
        group = group_of_path(path)
        if group is not None and getattr(self, "_json_source", {}).get(group) == "structured":
            return field_of_path(path) or field
        return field


# Declared fields, made in one place (_structured_fields) rather than spelled out one by one.
AIProviderAdminForm.declared_fields.update(_structured_fields())
AIProviderAdminForm.base_fields.update(AIProviderAdminForm.declared_fields)
assert set(STRUCTURED_FIELDS) <= set(AIProviderAdminForm.base_fields)


def shared_key_offered(*, admin, provider: AIProvider | None) -> bool:
    """Whether "use the shared key" can mean anything for this admin and provider. The admin
    unknown yet (a superadmin adding a row for someone): offered, and checked on save."""
    if admin is None:
        return True
    if provider is not None:
        return shared_key_permitted(admin=admin, provider=provider)
    # An add form, before a provider is picked: offered if any provider shares with them.
    shared = AIProvider.objects.exclude(shared_api_key="")
    return (shared if admin.is_superuser else shared.filter(allow_shared_for_normal_admins=True)).exists()


class AdminProviderSettingsForm(SecretFieldsFormMixin, forms.ModelForm):
    secret_fields = ("personal_api_key",)
    personal_api_key = write_only_secret_field("Personal API key")
    clear_personal_api_key = clear_secret_field("Clear my personal key")
    # Set by the admin class for staff, who always edit their own settings.
    current_user = None

    class Meta:
        model = AdminProviderSettings
        exclude = ("personal_api_key",)

    def __init__(self, *args, current_user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if current_user is not None:
            self.current_user = current_user
        # No control the admin cannot use; clean() refuses a withheld one if it is posted anyway.
        provider = self.instance.provider if self.instance.provider_id else None
        self.withheld = {}
        # (The admin may have left the field out already: its fieldsets ask the same question.)
        if not shared_key_offered(admin=self._row_admin(), provider=provider):
            self.fields.pop("use_shared_api", None)
            whom = "you" if self.current_user is not None else "this admin"
            sharer = str(provider) if provider is not None else "No provider"
            self.withheld["use_shared_api"] = f"{sharer} does not share its key with {whom}: add a personal key instead."
        if provider is not None and not provider.allow_personal_keys and "personal_api_key" in self.fields:
            del self.fields["personal_api_key"]
            self.withheld["personal_api_key"] = f"{provider} does not accept personal keys; its shared key is used."
        if not self.instance.personal_api_key:  # nothing to clear (a key stored earlier still can be)
            self.fields.pop("clear_personal_api_key", None)

    def _row_admin(self):
        return self.instance.admin if self.instance.admin_id else self.current_user

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk is not None:
            # A saved row stays with its admin and provider: re-pointing it would send the
            # personal key to another provider or hand it to another admin.
            for name in ("admin", "provider"):
                if name in cleaned and cleaned[name] is not None and cleaned[name].pk != getattr(self.instance, f"{name}_id"):
                    self.add_error(name, f"The {name} of saved settings cannot change; add settings for the other one instead.")
        provider = cleaned.get("provider") or (self.instance.provider if self.instance.provider_id else None)
        if provider is not None and cleaned.get("personal_api_key") and not provider.allow_personal_keys:
            self.add_error("personal_api_key", f"{provider} does not accept personal keys; its shared key is used.")
        for name, refusal in self.withheld.items():
            if self.data.get(self.add_prefix(name)):
                self.add_error(None, refusal)
        admin = cleaned.get("admin") or self._row_admin()
        if cleaned.get("use_shared_api") and provider is not None and admin is not None:
            if not shared_key_permitted(admin=admin, provider=provider):
                self.add_error("use_shared_api", f"{provider} does not share its key with this admin: add a personal key instead.")
        if provider is not None and admin is not None:
            duplicates = AdminProviderSettings.objects.filter(admin=admin, provider=provider).exclude(pk=self.instance.pk)
            if duplicates.exists():
                self.add_error("provider", f"Settings for {provider} exist already: edit those instead.")
        return cleaned


class AdminProviderLimitForm(forms.ModelForm):
    """A superadmin's monthly limit for one admin and provider (the counter is not editable)."""

    class Meta:
        model = AdminProviderLimit
        fields = ("admin", "provider", "monthly_limit")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "admin" in self.fields:
            self.fields["admin"].queryset = self.fields["admin"].queryset.filter(is_staff=True)
