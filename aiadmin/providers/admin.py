"""Unfold admin for the providers app. Superusers manage providers, shared keys, selected
models and limits; staff see providers and models read-only, manage only their own settings
(personal key, shared-key choice, preferences) and see their own limits and usage.
Permissions are checked here (the view layer), never only in templates.

ModelAdmin instances are shared by every request and thread: nothing request-specific is ever
stored on them (see :class:`RequestFreeAdminMixin`)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.http import Http404, HttpResponseNotAllowed
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.formats import date_format
from django.utils.timezone import localtime
from unfold.admin import ModelAdmin
from unfold.decorators import action, display
from unfold.widgets import UnfoldAdminTextInputWidget

from aiadmin.adapters.types import CAPABILITIES

from .catalogue_prefill import catalogue_choices, catalogue_initial
from .connection_check import provider_connection_check
from .fields import Ciphertext
from .forms import AdminProviderLimitForm, AdminProviderSettingsForm, AIProviderAdminForm, shared_key_offered
from .models import AdminProviderLimit, AdminProviderSettings, AIModel, AIProvider, AIRequestLog, APIToken
from .services import aimodel_select
from .structured_config import STRUCTURED_FIELDS
from .usage import limit_create, quota_remaining, quota_used


def is_staff(request) -> bool:
    return request.user.is_active and request.user.is_staff


def is_superuser(request) -> bool:
    return request.user.is_active and request.user.is_superuser


class AdminUserSearchMixin:
    """Searches a row's admin by the user model's USERNAME_FIELD: a host's own user model may
    have no ``username`` (members who sign in with their email address, say)."""

    def get_search_fields(self, request):
        return (*super().get_search_fields(request), f"admin__{get_user_model().USERNAME_FIELD}")


class RequestFreeAdminMixin:
    """No request state on the shared instance, and no action a user may not run.

    Unfold's ``changelist_view`` stores the request on the ModelAdmin (``self.request``),
    which every thread shares; nothing reads it, and here it is dropped so nobody can start
    to. A posted action that is not offered to the user (``permissions=`` on the action,
    Django's own ``delete_selected`` needs delete permission) is a 403, not a POST Django
    silently ignores.
    """

    @property
    def request(self):
        raise AttributeError("ModelAdmin instances are shared between requests: use the request argument.")

    @request.setter
    def request(self, value) -> None:
        pass

    def changelist_view(self, request, extra_context=None):
        if request.method == "POST":
            offered = self.get_actions(request)
            if any(name and name not in offered for name in request.POST.getlist("action")):
                raise PermissionDenied
        return super().changelist_view(request, extra_context)


class SuperuserWritesMixin:
    """Only superusers add, change or delete (who may look is the other mixin's say)."""

    def has_add_permission(self, request):
        return is_superuser(request)

    def has_change_permission(self, request, obj=None):
        return is_superuser(request)

    def has_delete_permission(self, request, obj=None):
        return is_superuser(request)


class SuperuserEditsStaffViewsMixin(SuperuserWritesMixin, RequestFreeAdminMixin):
    """Staff may look; only superusers add, change or delete."""

    def has_module_permission(self, request):
        return is_staff(request)

    def has_view_permission(self, request, obj=None):
        return is_staff(request)


class ShortColumnsMixin:
    """Short headings for the columns every list shares, so the lists fit a 1280 px window."""

    @display(description="Active", boolean=True, ordering="is_active")
    def active(self, obj) -> bool:
        return obj.is_active

    @display(description="Requests", ordering="total_requests")
    def requests(self, obj) -> int:
        return obj.total_requests

    @display(description="Last used", ordering="last_used_at")
    def last_used(self, obj):
        return obj.last_used_at


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
class AIProviderAdmin(ShortColumnsMixin, SuperuserEditsStaffViewsMixin, ModelAdmin):
    form = AIProviderAdminForm

    class Media:
        css = {"all": ("aiadmin/providers/admin_lists.css",)}
    change_form_outer_before_template = "aiadmin/providers/catalogue_picker.html"
    change_form_after_template = "aiadmin/providers/test_connection.html"
    formfield_overrides = {
        **ModelAdmin.formfield_overrides,
        # A plain input: Unfold's URL widget repeats the value as a "Currently:" link, which on
        # an add form prefilled from the catalogue reads as if the provider were saved already.
        models.URLField: {
            "widget": UnfoldAdminTextInputWidget(attrs={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"}),
            "assume_scheme": "https",
        },
    }
    # Few, narrow columns: the list fits a 1280 px window (name and slug share one column, the
    # adapter and its status another).
    list_display = (
        "provider_heading",
        "adapter_state",
        "active",
        "capability_list",
        "shared_key_state",
        "order",
        "requests",
        "last_used",
    )
    list_filter = ("is_active", "adapter", CapabilityFilter, "allow_shared_for_normal_admins", "allow_personal_keys")
    search_fields = ("name", "display_name", "slug", "description")
    ordering = ("sort_order", "name")
    readonly_fields = ("shared_key_state", "key_status", "total_requests", "last_used_at", "created_at", "updated_at")
    _key_fields = ("shared_api_key", "clear_shared_api_key")

    def get_fieldsets(self, request, obj=None):
        if not request.user.is_superuser:
            # Staff look at the row read-only: the stored JSON as it is, no form fields.
            return [
                (None, {"fields": (("name", "display_name"), ("slug", "adapter"), "description", "api_base_url", "website", "docs_url", "key_url", ("is_active", "sort_order"))}),
                ("Keys and sharing", {"fields": ("shared_key_state", "allow_shared_for_normal_admins", "allow_personal_keys", "key_status")}),
                ("Capabilities and configuration", {"classes": ("collapse",), "fields": ("capabilities", "config")}),
                ("Usage", {"fields": (("total_requests", "last_used_at"), ("created_at", "updated_at"))}),
            ]
        if obj is not None and obj.shared_api_key:
            key_fields = self._key_fields
        else:
            key_fields = ("shared_api_key",)
        usage = [("Usage", {"fields": (("total_requests", "last_used_at"), ("created_at", "updated_at"))})] if obj else []
        return [
            (
                None,
                {
                    "fields": (
                        "adapter",
                        ("name", "display_name"),
                        ("slug", "sort_order"),
                        "api_base_url",
                        "description",
                        "is_active",
                    )
                },
            ),
            # One URL a line: three in a row leave each input a few characters wide.
            ("Links on the card", {"fields": ("website", "docs_url", "key_url")}),
            ("Keys and sharing", {"fields": (*key_fields, "allow_shared_for_normal_admins", "allow_personal_keys", "key_status")}),
            ("Capabilities", {"fields": tuple((f"cap_{c}_supported", f"cap_{c}_dynamic") for c in CAPABILITIES)}),
            (
                "Connection",
                {
                    "fields": (
                        "allow_private_network",
                        "auth_style",
                        ("auth_header", "auth_prefix"),
                        "auth_param",
                        "extra_headers",
                        "models_path",
                        "default_params",
                    )
                },
            ),
            (
                "Which models are offered",
                {
                    "classes": ("collapse",),
                    "fields": ("rules_exclude", *((f"rules_{c}_include", f"rules_{c}_exclude") for c in CAPABILITIES)),
                },
            ),
            (
                "Advanced: the raw JSON",
                {
                    "classes": ("collapse",),
                    "description": (
                        "What the fields above write, with every other key the adapter reads. Checked by the same "
                        "schema. A field above that you change replaces its key here; keys without a field are kept; "
                        "changing one key in both places to different values is refused."
                    ),
                    "fields": ("capabilities", "config"),
                },
            ),
            *usage,
        ]

    # --- "Start from the catalogue" and "Test connection" -----------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        view = self.admin_site.admin_view(self.test_connection_view)  # login, CSRF, no caching
        return [
            path("test-connection/", view, name="%s_%s_test_connection" % info),
            path("<path:object_id>/test-connection/", view, name="%s_%s_test_connection" % info),
            *super().get_urls(),
        ]

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        slug = request.GET.get("catalogue")
        if slug:
            values = catalogue_initial(slug=slug)
            if values is None:
                messages.warning(request, f"The catalogue has no provider “{slug}”.")
            else:
                initial.pop("catalogue", None)
                initial.update(values)
                if (values.get("config") or {}).get("requires_base_url_edit"):
                    messages.info(request, "Replace the {…} parts of the base URL with your own (resource, region, project…).")
        return initial

    def add_view(self, request, form_url="", extra_context=None):
        if is_superuser(request) and request.method == "GET":
            extra_context = {
                **(extra_context or {}),
                "catalogue_choices": catalogue_choices(),
                "catalogue_picked": request.GET.get("catalogue", ""),
            }
        return super().add_view(request, form_url, extra_context)

    def test_connection_view(self, request, object_id=None):
        """A dry run of the form as typed (HTMX fragment): nothing is saved, the key is never
        shown. Superusers only, POST only (the admin view wrapper checks the CSRF token)."""
        if not is_superuser(request):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = None
        if object_id is not None:
            obj = self.get_object(request, object_id)
            if obj is None:
                raise Http404
        form_class = self.get_form(request, obj, change=obj is not None)
        # A copy: validating the form writes the typed values onto its instance.
        instance = AIProvider.objects.get(pk=obj.pk) if obj is not None else AIProvider()
        form = form_class(request.POST, instance=instance)
        form.is_valid()
        context = {**self.admin_site.each_context(request), **self._connection_check(form, obj)}
        return TemplateResponse(request, "aiadmin/providers/test_connection_result.html", context)

    _CHECKED_FIELDS = ("adapter", "api_base_url", "capabilities", "config", "shared_api_key", "clear_shared_api_key")

    def _connection_check(self, form, obj) -> dict:
        problems = [
            f"{form.fields[name].label or name}: {' '.join(form.errors[name])}"
            for name in (*self._CHECKED_FIELDS, *STRUCTURED_FIELDS)
            if name in form.errors and name in form.fields
        ]
        if problems:
            return {"ok": False, "message": "Fix these first: " + "; ".join(problems), "key_used": ""}
        cleaned = form.cleaned_data
        base_url, config = cleaned.get("api_base_url") or "", cleaned.get("config") or {}
        api_key, key_used = None, "no key"
        if cleaned.get("shared_api_key"):
            api_key, key_used = cleaned["shared_api_key"], "the key you typed"
        elif obj is not None and obj.shared_api_key and not cleaned.get("clear_shared_api_key"):
            same_place = base_url == obj.api_base_url and config.get("hub_url") == (obj.config or {}).get("hub_url")
            if same_place:
                api_key, key_used = obj.reveal_secret("shared_api_key"), "the stored shared key"
            else:
                key_used = "no key (the stored key is only sent to the URL it was saved with: type it again)"
        result = provider_connection_check(
            adapter=cleaned.get("adapter") or "", base_url=base_url, config=config, api_key=api_key,
            name=cleaned.get("display_name") or cleaned.get("name") or "",
        )
        return {"ok": result.ok, "message": result.message, "key_used": key_used}

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        # The write-only key inputs are never rendered as read-only values.
        return [name for name in readonly if name not in self._key_fields]

    @display(description="Order", ordering="sort_order")
    def order(self, obj: AIProvider) -> int:
        return obj.sort_order

    @display(description="AI provider", header=True, ordering="name")
    def provider_heading(self, obj: AIProvider) -> list[str]:
        return [str(obj), obj.slug]

    @display(description="Adapter", label={"ok": "info", "adapter missing": "danger"}, ordering="adapter")
    def adapter_state(self, obj: AIProvider) -> tuple[str, str]:
        status = obj.adapter_status
        return (status, obj.adapter if status == "ok" else f"{obj.adapter}: {status}")

    @display(description="Capabilities")
    def capability_list(self, obj: AIProvider) -> str:
        return ", ".join(obj.supported_capabilities) or "—"

    def get_list_display(self, request):
        # Which column is shown is decided per request; neither column depends on who asks.
        list_display = super().get_list_display(request)
        if is_superuser(request):
            return tuple("shared_key_hint" if name == "shared_key_state" else name for name in list_display)
        return list_display

    @display(description="Shared key")
    def shared_key_state(self, obj: AIProvider) -> str:
        # What staff see: that a key exists, nothing more.
        return "Set" if obj.shared_api_key else "Not set"

    @display(description="Shared key")
    def shared_key_hint(self, obj: AIProvider) -> str:
        # Superusers only (get_list_display): the masked hint.
        return obj.shared_key_hint if obj.shared_api_key else "Not set"

    @display(description="Key check")
    def key_status(self, obj: AIProvider) -> str:
        if obj.key_validated_at is None:
            return "Not checked yet"
        verdict = "Works" if obj.key_validation_ok else "Failed"
        return f"{verdict} ({obj.key_validated_at:%Y-%m-%d %H:%M}): {obj.key_validation_message}"

    def save_model(self, request, obj, form, change):
        stored_key_untouched = isinstance(obj.shared_api_key, Ciphertext)
        super().save_model(request, obj, form, change)
        if stored_key_untouched and not obj.shared_api_key:
            messages.warning(request, f"The base URL of {obj} changed, so its shared key was cleared. Enter the key again.")


@admin.register(AIModel)
class AIModelAdmin(ShortColumnsMixin, SuperuserEditsStaffViewsMixin, ModelAdmin):
    # The model id alone is the row's link (tests and people find a row by it).
    list_display = (
        "model_id",
        "provider",
        "capability",
        "active",
        "price",
        "context",
        "use",
        "selected_by",
    )
    list_filter = ("capability", "is_active", "is_free", "provider")
    search_fields = ("model_id", "display_name", "provider__name", "provider__slug")
    list_select_related = ("provider", "selected_by")
    readonly_fields = ("total_requests", "last_used_at", "selected_by", "selected_at", "created_at")
    actions = ["make_active"]

    class Media:
        css = {"all": ("aiadmin/providers/admin_lists.css",)}

    @display(description="Requests, last used", header=True, ordering="total_requests")
    def use(self, obj: AIModel) -> list[str]:
        last = date_format(localtime(obj.last_used_at), "SHORT_DATETIME_FORMAT") if obj.last_used_at else ""
        return [str(obj.total_requests), last]

    @display(description="Context", ordering="context_window")
    def context(self, obj: AIModel):
        return obj.context_window

    @display(description="Price per M (in / out)")
    def price(self, obj: AIModel) -> str:
        if obj.is_free:
            return "free"
        if obj.pricing_input is None and obj.pricing_output is None:
            return "—"
        return f"{_amount(obj.pricing_input)} / {_amount(obj.pricing_output)}"

    @action(
        description="Make active (the provider's previous model for the capability is deactivated)",
        permissions=["change"],  # superusers only; aimodel_select refuses anyone else as well
    )
    def make_active(self, request, queryset):
        chosen = {}
        for model in queryset.select_related("provider"):
            chosen[(model.provider_id, model.capability)] = model
        for model in chosen.values():
            aimodel_select(provider=model.provider, capability=model.capability, model_id=model.model_id, user=request.user)
        messages.success(request, f"{len(chosen)} model(s) made active.")


class OwnRowsAdminMixin(RequestFreeAdminMixin):
    """Superusers see every row; staff only their own, and another admin's row by id is a
    403 rather than "missing"."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if request.user.is_superuser else queryset.filter(admin=request.user)

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None and not request.user.is_superuser:
            base = self.model._default_manager.all()
            field = base.model._meta.get_field(from_field) if from_field else base.model._meta.pk
            try:
                if base.filter(**{field.name: field.to_python(object_id)}).exists():
                    raise PermissionDenied
            except (ValidationError, ValueError, TypeError):  # a malformed id: "missing", as Django says
                return None
        return obj

    def _owns(self, request, obj) -> bool:
        return request.user.is_superuser or obj is None or obj.admin_id == request.user.pk

    def has_module_permission(self, request):
        return is_staff(request)

    def has_view_permission(self, request, obj=None):
        return is_staff(request) and self._owns(request, obj)


@admin.register(AdminProviderSettings)
class AdminProviderSettingsAdmin(ShortColumnsMixin, AdminUserSearchMixin, OwnRowsAdminMixin, ModelAdmin):
    """Staff edit their own rows: personal key, shared-key choice, preferences, on/off. Which
    admin and provider a row is for is fixed once it exists (a personal key for one provider
    must never be sent to another, nor handed to another admin); limits are elsewhere."""

    form = AdminProviderSettingsForm
    list_display = ("provider", "admin", "personal_key_state", "use_shared_api", "active", "requests", "last_used")
    list_filter = ("is_active", "use_shared_api", "provider")
    search_fields = ("provider__name", "provider__slug")
    list_select_related = ("provider", "admin")
    readonly_fields = ("personal_key_state", "key_status", "monthly_limit_state", "total_requests", "last_used_at", "created_at", "updated_at")

    class Media:
        css = {"all": ("aiadmin/providers/admin_lists.css",)}

    def has_add_permission(self, request):
        return is_staff(request)

    def has_change_permission(self, request, obj=None):
        return is_staff(request) and self._owns(request, obj)

    def has_delete_permission(self, request, obj=None):
        return is_staff(request) and self._owns(request, obj)

    def get_fields(self, request, obj=None):
        fields = ["provider", "personal_api_key", "use_shared_api", "preferred_models", "is_active"]
        if obj is not None:
            if obj.personal_api_key:
                fields.insert(2, "clear_personal_api_key")
            if not obj.provider.allow_personal_keys:
                fields.remove("personal_api_key")
            fields += ["key_status", "monthly_limit_state"]
        # As the form decides (AdminProviderSettingsForm): no option the row's admin cannot use.
        row_admin = obj.admin if obj is not None else (None if request.user.is_superuser else request.user)
        if not shared_key_offered(admin=row_admin, provider=obj.provider if obj is not None else None):
            fields.remove("use_shared_api")
        if request.user.is_superuser:
            return ["admin", *fields]
        return fields

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if obj is not None:
            readonly += ["admin", "provider"]
        return readonly

    def get_form(self, request, obj=None, change=False, **kwargs):
        # get_form builds a new class on every call: the attribute below is this request's.
        form = super().get_form(request, obj, change, **kwargs)
        form.current_user = None if request.user.is_superuser else request.user
        return form

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser and not change:
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

    @display(description="Monthly limit")
    def monthly_limit_state(self, obj: AdminProviderSettings) -> str:
        limit = AdminProviderLimit.objects.filter(admin_id=obj.admin_id, provider_id=obj.provider_id).first()
        return _limit_summary(limit) if limit is not None else "None (set by a superadmin under “Monthly limits”)"


def _amount(value) -> str:
    return "—" if value is None else f"{value.normalize():f}"


def _limit_summary(limit: AdminProviderLimit) -> str:
    if limit.monthly_limit is None:
        return "Unlimited"
    return f"{quota_remaining(limit_row=limit)} of {limit.monthly_limit} requests left this month"


@admin.register(AdminProviderLimit)
class AdminProviderLimitAdmin(AdminUserSearchMixin, SuperuserWritesMixin, OwnRowsAdminMixin, ModelAdmin):
    """Only superusers set limits; staff may look at their own."""

    form = AdminProviderLimitForm
    list_display = ("provider", "admin", "monthly_limit", "requests_this_month", "remaining")
    list_filter = ("provider",)
    search_fields = ("provider__name", "provider__slug")
    list_select_related = ("provider", "admin")
    readonly_fields = ("requests_this_month", "remaining", "created_at", "updated_at")

    class Media:
        css = {"all": ("aiadmin/providers/admin_lists.css",)}

    def get_fields(self, request, obj=None):
        fields = ["admin", "provider", "monthly_limit"]
        return fields if obj is None else [*fields, "requests_this_month", "remaining"]

    def get_readonly_fields(self, request, obj=None):
        readonly = list(self.readonly_fields)
        if obj is not None:
            readonly += ["admin", "provider"]  # the counter belongs to this pair
        return readonly

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
        else:
            # This month's earlier calls count from the start (from the ledger).
            created = limit_create(admin=obj.admin, provider=obj.provider, monthly_limit=obj.monthly_limit)
            obj.pk, obj.usage_month, obj.usage_month_requests = created.pk, created.usage_month, created.usage_month_requests

    @display(description="Requests this month")
    def requests_this_month(self, obj: AdminProviderLimit) -> int:
        return quota_used(limit_row=obj)

    @display(description="Left this month")
    def remaining(self, obj: AdminProviderLimit) -> str:
        left = quota_remaining(limit_row=obj)
        return "unlimited" if left is None else str(left)


@admin.register(AIRequestLog)
class AIRequestLogAdmin(AdminUserSearchMixin, OwnRowsAdminMixin, ModelAdmin):
    """The ledger, read-only for everyone; staff see their own rows (another admin's by id is
    a 403, as on the other per-admin pages, not a "doesn't exist" redirect)."""

    list_display = (
        "created_at",
        "admin",
        "model_heading",
        "capability",
        "key_source",
        "status_label",
        "latency",
        "tokens",
        "estimated_cost",
        "via",
    )
    list_filter = ("status", "capability", "key_source", "provider")
    search_fields = ("provider_slug", "model_name", "error_message")
    list_select_related = ("admin", "api_token")
    date_hierarchy = "created_at"

    class Media:
        css = {"all": ("aiadmin/providers/admin_lists.css",)}

    @display(description="Model", header=True, ordering="model_name")
    def model_heading(self, obj: AIRequestLog) -> list[str]:
        return [obj.model_name or "—", obj.provider_slug]

    @display(description="Status", label={"ok": "success", "cancelled": "info", "failed": "danger"}, ordering="status")
    def status_label(self, obj: AIRequestLog) -> tuple[str, str]:
        # (colour, text): the status itself is shown, a failure of any kind in red.
        kind = obj.status if obj.status in ("ok", "cancelled") else "failed"
        return (kind, obj.status)

    @display(description="Latency", header=True, ordering="latency_ms")
    def latency(self, obj: AIRequestLog) -> list[str]:
        first = f"first token {obj.time_to_first_token_ms} ms" if obj.time_to_first_token_ms is not None else ""
        return [f"{obj.latency_ms} ms" if obj.latency_ms is not None else "—", first]

    @display(description="Via")
    def via(self, obj: AIRequestLog) -> str:
        # The API token the call came through (its name and prefix, never more).
        return str(obj.api_token) if obj.api_token_id is not None else "console / host code"

    @display(description="Tokens in / out", header=True)
    def tokens(self, obj: AIRequestLog) -> list[str]:
        if obj.input_tokens is None and obj.output_tokens is None:
            return ["—", ""]
        return [f"{obj.input_tokens or 0} in", f"{obj.output_tokens or 0} out"]

    def has_add_permission(self, request):
        return False  # the ledger is written by the service, never by hand

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(APIToken)
class APITokenAdmin(AdminUserSearchMixin, RequestFreeAdminMixin, ModelAdmin):
    """Every admin's API tokens, read-only, for superadmins. Tokens are made and revoked on the
    console's "API tokens" page (or made by ``manage.py create_api_token``); the hash is never
    shown, only the prefix that names a token."""

    list_display = ("name", "admin", "token_prefix", "state_label", "expires_at", "last_used_at", "created_at")
    list_filter = (("revoked_at", admin.EmptyFieldListFilter),)
    search_fields = ("name", "prefix")
    list_select_related = ("admin",)
    fields = ("name", "admin", "token_prefix", "state_label", "scopes", "expires_at", "revoked_at", "last_used_at", "created_at", "created_by")
    readonly_fields = fields

    class Media:
        css = {"all": ("aiadmin/providers/admin_lists.css",)}

    def has_module_permission(self, request):
        return is_superuser(request)

    def has_view_permission(self, request, obj=None):
        return is_superuser(request)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # revoked, never deleted: the ledger still names it

    @display(description="Token", ordering="prefix")
    def token_prefix(self, obj: APIToken) -> str:
        return f"aia_{obj.prefix}_…"

    @display(description="State", label={"active": "success", "expired": "warning", "revoked": "danger"})
    def state_label(self, obj: APIToken) -> str:
        return obj.state()
