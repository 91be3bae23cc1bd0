from django.contrib import admin
from unfold.admin import ModelAdmin

from .models import Member


@admin.register(Member)
class MemberAdmin(ModelAdmin):
    list_display = ("email", "full_name", "library_card", "is_staff")
    search_fields = ("email", "full_name", "library_card")
    list_filter = ("is_staff", "is_active")
    fields = ("email", "full_name", "library_card", "is_active", "is_staff", "is_superuser", "groups")
