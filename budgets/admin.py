from django.contrib import admin

from .models import PlanLine, ServiceContract, SubBudget


class SubBudgetInline(admin.TabularInline):
    model = SubBudget
    extra = 0


class PlanLineInline(admin.TabularInline):
    model = PlanLine
    extra = 0


@admin.register(ServiceContract)
class ServiceContractAdmin(admin.ModelAdmin):
    list_display = ["title", "region", "year"]
    list_filter = ["year", "region"]
    inlines = [SubBudgetInline]


@admin.register(SubBudget)
class SubBudgetAdmin(admin.ModelAdmin):
    list_display = ["contract", "kind"]
    inlines = [PlanLineInline]
