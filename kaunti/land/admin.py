"""Django admin for operators: read-only views of land records (writes go through services)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from kaunti.land.models import (
    BillingRun,
    LegacyImport,
    Objection,
    Owner,
    Ownership,
    Parcel,
    ParcelCharge,
    RatingRule,
    RatingYear,
    RollEntry,
    RollImport,
    Transfer,
    ValuationRoll,
    WaiverCampaign,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Parcel)
class ParcelAdmin(ReadOnlyAdmin):
    list_display = ["number", "ward", "area_hectares", "land_use", "tenure", "is_rateable"]
    list_filter = ["land_use", "tenure", "is_rateable"]
    search_fields = ["number", "number_key"]


@admin.register(Owner)
class OwnerAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "national_id", "kra_pin"]
    search_fields = ["name", "national_id", "kra_pin"]


@admin.register(ParcelCharge)
class ParcelChargeAdmin(ReadOnlyAdmin):
    list_display = ["parcel", "kind", "financial_year", "period", "amount", "bill"]
    list_filter = ["kind", "financial_year"]
    raw_id_fields = ["parcel", "bill", "run"]


@admin.register(BillingRun)
class BillingRunAdmin(ReadOnlyAdmin):
    list_display = ["financial_year", "state", "bills_created", "amount_billed", "started_at"]


for model in (
    Ownership,
    Transfer,
    ValuationRoll,
    RollEntry,
    RollImport,
    Objection,
    RatingYear,
    RatingRule,
    WaiverCampaign,
    LegacyImport,
):
    admin.site.register(model, ReadOnlyAdmin)
