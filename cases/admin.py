from django.contrib import admin

from .models import Region, Team

# Only master data is administered here; case files are never edited in the admin
# (the admin role has no access to personal case data, DOMAIN.md).


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "inhabitants"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "region"]
    list_filter = ["region"]
