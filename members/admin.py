"""The Django admin for network administrators."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import ICB, Group, GroupTarget, Membership, Network, Person, StaffGroup, Trust


@admin.register(Person)
class PersonAdmin(UserAdmin):
    ordering = ["email"]
    list_display = ["email", "full_name", "trust", "staff_group", "is_staff"]
    list_filter = ["is_staff", "is_superuser", "trust__icb", "trust", "staff_group"]
    search_fields = ["email", "full_name"]
    list_select_related = ["trust", "staff_group"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Person", {"fields": ["full_name", "job_title", "trust", "staff_group"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups",
                                    "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "full_name",
                                                              "usable_password", "password1",
                                                              "password2"]})]
    readonly_fields = ["last_login", "date_joined"]


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["person"]
    fields = ["person", "role", "status", "source", "applied_at", "decided_by", "decided_at"]
    readonly_fields = ["decided_by", "decided_at"]


class GroupTargetInline(admin.TabularInline):
    model = GroupTarget
    extra = 0


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "parent", "slug", "status", "places", "signup_closes"]
    list_filter = ["kind", "status"]
    inlines = [GroupTargetInline]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["person", "group", "role", "status", "source", "applied_at", "decided_at",
                    "offer_expires_at"]
    list_filter = ["group", "role", "status", "source"]
    search_fields = ["person__email", "person__full_name"]
    autocomplete_fields = ["person"]
    list_select_related = ["person", "group"]


@admin.register(Trust)
class TrustAdmin(admin.ModelAdmin):
    list_display = ["name", "ods_code", "short_name", "icb"]
    list_filter = ["icb"]
    search_fields = ["name", "ods_code", "short_name"]


admin.site.register(ICB)
admin.site.register(StaffGroup)
admin.site.register(Network)
admin.site.site_header = "SIG Hub administration"
