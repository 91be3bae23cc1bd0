"""Admin forms. Secrets are write-only: the input never renders a value (plaintext or
ciphertext), an empty input keeps the stored key, clearing is an explicit checkbox."""

from __future__ import annotations

import re

from django import forms
from django.db import models
from unfold.widgets import UnfoldAdminPasswordWidget, UnfoldAdminSelectWidget, UnfoldBooleanWidget

from aiadmin.adapters.registry import registry
from aiadmin.adapters.urlguard import base_url_save_problem

from .access import shared_key_permitted
from .models import AdminProviderLimit, AdminProviderSettings, AIProvider
from .schema import config_allows_private_network, provider_json_problems

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

    problems = [
        (problem.field, str(problem))
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
