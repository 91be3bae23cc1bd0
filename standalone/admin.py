"""The standalone console's own choice for its user admin, as any host makes its own: Django's
user and group admin restyled by Unfold, and the superadmins' alone. aiadmin's apps never touch
a host's user admin."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as BaseGroupAdmin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.models import Group, User
from unfold.admin import ModelAdmin
from unfold.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from aiadmin.providers.admin import SuperuserEditsStaffViewsMixin, is_superuser

admin.site.unregister(User)
admin.site.unregister(Group)


class SuperuserOnlyAdminMixin(SuperuserEditsStaffViewsMixin):
    """Users and groups are the superadmins' alone, whatever model permissions a staff
    account was granted: whoever edits users can make themselves a superuser. (Staff change
    their own password through the admin site's password page, not here.)"""

    def has_module_permission(self, request):
        return is_superuser(request)

    def has_view_permission(self, request, obj=None):
        return is_superuser(request)


@admin.register(User)
class UserAdmin(SuperuserOnlyAdminMixin, BaseUserAdmin, ModelAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    change_password_form = AdminPasswordChangeForm


@admin.register(Group)
class GroupAdmin(SuperuserOnlyAdminMixin, BaseGroupAdmin, ModelAdmin):
    pass
