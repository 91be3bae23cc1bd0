"""Unfold admin for the four models. Superusers manage providers, shared keys and limits;
staff see providers read-only and manage only their own settings. Permissions are checked
here (the view layer), never only in templates."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied
from django.db import models
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from aiadmin.adapters.types import CAPABILITIES

from .fields import Ciphertext
from .forms import AdminProviderSettingsForm, AIProviderForm
from .models import AdminProviderSettings, AIModel, AIProvider, AIRequestLog
from .services import aimodel_select


def _is_staff(request) -> bool:
    return request.user.is_active and request.user.is_staff


class SuperuserEditsStaffViewsMixin:
    """Staff may look; only superusers add, change or delete."""

    def has_module_permission(self, request):
        return _is_staff(request)

    def has_view_permission(self, request, obj=None):
        return _is_staff(request)

    def has_add_permission(self, request):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser


class CapabilityFilter(admin.SimpleListFilter):
    title = "capability"
    parameter_name = "capability"

    def lookups(self, request, model_admin):
        return [(capability, capability.title()) for capability in CAPABILITIES]

    def queryset(self, request, queryset):
        if self.value() in CAPABILITIES:
            return queryset.filter(**{f"capabilities__{self.value()}__supported": True})
        return queryset


@admin.register(AIProvider)
class AIProviderAdmin(SuperuserEditsStaffViewsMixin, ModelAdmin):
    form = AIProviderForm
    formfield_overrides = {
        **ModelAdmin.formfield_overrides,
        models.URLField: {**ModelAdmin.formfield_overrides.get(models.URLField, {}), "assume_scheme": "https"},
    }
    list_display = (
        "__str__",
        "slug",
        "adapter",
        "adapter_state",
        "is_active",
        "capability_list",
        "shared_key_state",
        "sort_order",
        "total_requests",
        "last_used_at",
    )
    list_filter = ("is_active", "adapter", CapabilityFilter, "allow_shared_for_normal_admins", "allow_personal_keys")
    search_fields = ("name", "display_name", "slug", "description")
    ordering = ("sort_order", "name")
    readonly_fields = ("shared_key_state", "key_status", "total_requests", "last_used_at", "created_at", "updated_at")
    _key_fields = ("shared_api_key", "clear_shared_api_key")

    def get_fieldsets(self, request, obj=None):
        if not request.user.is_superuser:
            key_fields = ("shared_key_state",)
        elif obj is not None and obj.shared_api_key:
            key_fields = self._key_fields
        else:
            key_fields = ("shared_api_key",)
        return [
            (
                None,
                {
                    "fields": (
                        ("name", "display_name"),
                        ("slug", "adapter"),
                        "description",
                        "api_base_url",
                        ("website", "docs_url", "key_url"),
                        ("is_active", "sort_order"),
                    )
                },
            ),
            ("Keys and sharing", {"fields": (*key_fields, "allow_shared_for_normal_admins", "allow_personal_keys", "key_status")}),
            ("Capabilities and configuration", {"classes": ("collapse",), "fields": ("capabilities", "config")}),
            ("Usage", {"fields": (("total_requests", "last_used_at"), ("created_at", "updated_at"))}),
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # The write-only key inputs are never rendered as read-only values.
        return [name for name in readonly if name not in self._key_fields]

    @display(description="Adapter status", label={"ok": "success", "adapter missing": "danger"})
    def adapter_state(self, obj: AIProvider) -> str:
        return obj.adapter_status

    @display(description="Capabilities")
    def capability_list(self, obj: AIProvider) -> str:
        return ", ".join(obj.supported_capabilities) or "—"

    @display(description="Shared key")
    def shared_key_state(self, obj: AIProvider) -> str:
        if not obj.shared_api_key:
            return "Not set"
        # Staff learn that a key exists, nothing more.
        return obj.shared_key_hint if self._request_is_superuser else "Set"

    @display(description="Key check")
    def key_status(self, obj: AIProvider) -> str:
        if obj.key_validated_at is None:
            return "Not checked yet"
        verdict = "Works" if obj.key_validation_ok else "Failed"
        return f"{verdict} ({obj.key_validated_at:%Y-%m-%d %H:%M}): {obj.key_validation_message}"

    def changelist_view(self, request, extra_context=None):
        self._request_is_superuser = request.user.is_superuser
        return super().changelist_view(request, extra_context)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        self._request_is_superuser = request.user.is_superuser
        return super().changeform_view(request, object_id, form_url, extra_context)

    def save_model(self, request, obj, form, change):
        stored_key_untouched = isinstance(obj.shared_api_key, Ciphertext)
        super().save_model(request, obj, form, change)
        if stored_key_untouched and not obj.shared_api_key:
            messages.warning(request, f"The base URL of {obj} changed, so its shared key was cleared. Enter the key again.")


@admin.register(AIModel)
class AIModelAdmin(SuperuserEditsStaffViewsMixin, ModelAdmin):
    list_display = (
        "model_id",
        "provider",
        "capability",
        "is_active",
        "is_free",
        "pricing_input",
        "pricing_output",
        "context_window",
        "total_requests",
        "last_used_at",
        "selected_by",
    )
    list_filter = ("capability", "is_active", "is_free", "provider")
    search_fields = ("model_id", "display_name", "provider__name", "provider__slug")
    list_select_related = ("provider", "selected_by")
    readonly_fields = ("total_requests", "last_used_at", "selected_by", "selected_at", "created_at")
    actions = ["make_active"]

    @action(description="Make active (the provider's previous model for the capability is deactivated)")
    def make_active(self, request, queryset):
        chosen = {}
        for model in queryset.select_related("provider"):
            chosen[(model.provider_id, model.capability)] = model
        for model in chosen.values():
            aimodel_select(provider=model.provider, capability=model.capability, model_id=model.model_id, user=request.user)
        messages.success(request, f"{len(chosen)} model(s) made active.")


@admin.register(AdminProviderSettings)
class AdminProviderSettingsAdmin(ModelAdmin):
    form = AdminProviderSettingsForm
    list_display = ("provider", "admin", "personal_key_state", "use_shared_api", "monthly_limit", "is_active", "total_requests", "last_used_at")
    list_filter = ("is_active", "use_shared_api", "provider")
    search_fields = ("provider__name", "provider__slug", "admin__username")
    list_select_related = ("provider", "admin")
    readonly_fields = ("personal_key_state", "key_status", "total_requests", "last_used_at", "created_at", "updated_at")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(admin=request.user)

    def get_object(self, request, object_id, from_field=None):
        # Another admin's settings are forbidden, not "missing": say so with a 403.
        obj = super().get_object(request, object_id, from_field)
        if obj is None and not request.user.is_superuser:
            base = AdminProviderSettings.objects.all()
            field = base.model._meta.get_field(from_field) if from_field else base.model._meta.pk
            try:
                if base.filter(**{field.name: field.to_python(object_id)}).exists():
                    raise PermissionDenied
            except (ValueError, TypeError):
                return None
        return obj

    def _owns(self, request, obj) -> bool:
        return request.user.is_superuser or obj is None or obj.admin_id == request.user.pk

    def has_module_permission(self, request):
        return _is_staff(request)

    def has_view_permission(self, request, obj=None):
        return _is_staff(request) and self._owns(request, obj)

    def has_add_permission(self, request):
        return _is_staff(request)

    def has_change_permission(self, request, obj=None):
        return _is_staff(request) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None):
        return _is_staff(request) and self._owns(request, obj)

    def get_fields(self, request, obj=None):
        fields = ["provider", "personal_api_key", "use_shared_api", "preferred_models", "is_active"]
        if obj is not None:
            if obj.personal_api_key:
                fields.insert(2, "clear_personal_api_key")
            fields.append("key_status")
        if request.user.is_superuser:
            return ["admin", *fields, "monthly_limit"]
        return [*fields, "monthly_limit"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if not request.user.is_superuser:
            readonly.append("monthly_limit")  # limits are the superadmins' call
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        form.current_user = None if request.user.is_superuser else request.user
        return form

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.admin = request.user
        super().save_model(request, obj, form, change)

    @display(description="Personal key")
    def personal_key_state(self, obj: AdminProviderSettings) -> str:
        return obj.personal_key_hint or "Not set"

    @display(description="Key check")
    def key_status(self, obj: AdminProviderSettings) -> str:
        if obj.key_validated_at is None:
            return "Not checked yet"
        verdict = "Works" if obj.key_validation_ok else "Failed"
        return f"{verdict} ({obj.key_validated_at:%Y-%m-%d %H:%M}): {obj.key_validation_message}"


@admin.register(AIRequestLog)
class AIRequestLogAdmin(ModelAdmin):
    list_display = (
        "created_at",
        "admin",
        "provider_slug",
        "model_name",
        "capability",
        "key_source",
        "status",
        "latency_ms",
        "time_to_first_token_ms",
        "input_tokens",
        "output_tokens",
        "estimated_cost",
    )
    list_filter = ("status", "capability", "key_source", "provider")
    search_fields = ("provider_slug", "model_name", "admin__username", "error_message")
    list_select_related = ("admin",)
    date_hierarchy = "created_at"

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(admin=request.user)

    def has_module_permission(self, request):
        return _is_staff(request)

    def has_view_permission(self, request, obj=None):
        return _is_staff(request) and (request.user.is_superuser or obj is None or obj.admin_id == request.user.pk)

    def has_add_permission(self, request):
        return False  # the ledger is written by the service, never by hand

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Django's own user and group admin, restyled by Unfold.
admin.site.unregister(User)
admin.site.unregister(Group)


@admin.register(User)
class UserAdmin(BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class GroupAdmin(BaseGroupAdmin, ModelAdmin):
    pass
