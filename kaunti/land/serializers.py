"""Shapes of the land API: one input or output serializer per operation, no logic."""

from typing import Any

from django.urls import reverse
from rest_framework import serializers

from kaunti.core.fields import AsciiIntegerInput
from kaunti.land.models import BillingRun, Ownership, Parcel, RollEntry, Transfer, ValuationRoll
from kaunti.land.selectors.billing import billing_run_percent
from kaunti.land.selectors.maps import BBox, MapSelection, parse_bbox
from kaunti.land.selectors.parcels import RatesStatus, status_of, url_number


class ParcelQuery(serializers.Serializer):
    q = serializers.CharField(required=False, allow_blank=True, max_length=120, default="")
    ward = serializers.CharField(required=False, allow_blank=True, max_length=10, default="")
    status = serializers.ChoiceField(
        choices=[status for status, _label in RatesStatus.choices()],
        required=False,
        allow_blank=True,
        default="",
    )


class MapQuery(serializers.Serializer):
    bbox = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="west,south,east,north in degrees (WGS 84).",
    )
    ward = serializers.CharField(required=False, allow_blank=True, max_length=10, default="")

    def validate_bbox(self, value: str) -> BBox | None:
        try:
            return parse_bbox(value.strip())
        except ValueError as exc:
            raise serializers.ValidationError(
                "Give bbox as west,south,east,north in degrees, west <= east, south <= north."
            ) from exc


class ParcelSummaryOutput(serializers.ModelSerializer):
    url_number = serializers.SerializerMethodField(
        help_text="The number as it appears in URLs (`/` written `-`)."
    )
    ward = serializers.CharField(source="ward.code")
    ward_name = serializers.CharField(source="ward.name")
    balance = serializers.DecimalField(max_digits=16, decimal_places=2)
    status = serializers.SerializerMethodField()

    class Meta:
        model = Parcel
        fields = [
            "number",
            "url_number",
            "ward",
            "ward_name",
            "area_hectares",
            "land_use",
            "tenure",
            "zone",
            "is_rateable",
            "balance",
            "status",
        ]

    def get_url_number(self, parcel: Parcel) -> str:
        return url_number(parcel)

    def get_status(self, parcel: Parcel) -> str:
        return status_of(parcel)


class OwnershipOutput(serializers.ModelSerializer):
    name = serializers.CharField(source="owner.name")
    kind = serializers.CharField(source="owner.kind")
    national_id = serializers.CharField(source="owner.national_id")
    kra_pin = serializers.CharField(source="owner.kra_pin")
    share = serializers.SerializerMethodField()

    class Meta:
        model = Ownership
        fields = ["name", "kind", "national_id", "kra_pin", "share", "started_on", "ended_on"]

    def get_share(self, holding: Ownership) -> str:
        return f"{holding.share_numerator}/{holding.share_denominator}"


class TransferOutput(serializers.ModelSerializer):
    class Meta:
        model = Transfer
        fields = ["instrument", "registered_on", "note"]


class ParcelRollEntryOutput(serializers.ModelSerializer):
    roll = serializers.UUIDField(source="roll.public_id")
    roll_name = serializers.CharField(source="roll.name")
    roll_status = serializers.CharField(source="roll.status")

    class Meta:
        model = RollEntry
        fields = ["roll", "roll_name", "roll_status", "site_value", "valuation_date"]


class ParcelDetailOutput(ParcelSummaryOutput):
    boundary = serializers.JSONField(help_text="GeoJSON geometry (WGS 84), or null.")
    boundary_area_hectares = serializers.DecimalField(
        max_digits=12, decimal_places=4, allow_null=True
    )
    improvements = serializers.CharField()
    owners = OwnershipOutput(many=True)
    transfers = TransferOutput(many=True)
    roll_entries = ParcelRollEntryOutput(many=True)

    class Meta(ParcelSummaryOutput.Meta):
        fields = [
            *ParcelSummaryOutput.Meta.fields,
            "improvements",
            "boundary",
            "boundary_area_hectares",
            "owners",
            "transfers",
            "roll_entries",
        ]


class StatementYearOutput(serializers.Serializer):
    financial_year = serializers.IntegerField(help_text="2026 for July 2026 to June 2027.")
    # A declared field named like Field.label: DRF's metaclass takes it out of the class.
    label = serializers.CharField()  # type: ignore[assignment]
    arrears_brought_forward = serializers.DecimalField(max_digits=16, decimal_places=2)
    charges = serializers.DecimalField(max_digits=16, decimal_places=2)
    penalties = serializers.DecimalField(max_digits=16, decimal_places=2)
    payments = serializers.DecimalField(max_digits=16, decimal_places=2)
    balance = serializers.DecimalField(max_digits=16, decimal_places=2)


class StatementLineOutput(serializers.Serializer):
    bill_number = serializers.CharField()
    kind = serializers.CharField()
    financial_year = serializers.IntegerField()
    description = serializers.CharField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    paid = serializers.DecimalField(max_digits=14, decimal_places=2)
    status = serializers.CharField()
    due_on = serializers.DateField()


class StatementOutput(serializers.Serializer):
    parcel = serializers.CharField(source="parcel.number")
    balance = serializers.DecimalField(max_digits=16, decimal_places=2)
    years = StatementYearOutput(many=True)
    lines = StatementLineOutput(many=True)


class RollOutput(serializers.ModelSerializer):
    entry_count = serializers.IntegerField()
    pending_objections = serializers.IntegerField()

    class Meta:
        model = ValuationRoll
        fields = [
            "public_id",
            "name",
            "valuation_date",
            "status",
            "entry_count",
            "pending_objections",
            "approved_at",
        ]


class RollEntryOutput(serializers.ModelSerializer):
    parcel = serializers.CharField(source="parcel.number")
    url_number = serializers.SerializerMethodField()
    ward = serializers.CharField(source="parcel.ward.code")
    land_use = serializers.CharField(source="parcel.land_use")
    pending_objections = serializers.IntegerField()

    class Meta:
        model = RollEntry
        fields = [
            "parcel",
            "url_number",
            "ward",
            "land_use",
            "site_value",
            "valuation_date",
            "pending_objections",
        ]

    def get_url_number(self, entry: RollEntry) -> str:
        return url_number(entry.parcel)


class BillingRunOutput(serializers.ModelSerializer):
    roll = serializers.UUIDField(source="roll.public_id")
    roll_name = serializers.CharField(source="roll.name")
    job = serializers.UUIDField(source="job.public_id", allow_null=True, default=None)
    percent = serializers.SerializerMethodField()

    class Meta:
        model = BillingRun
        fields = [
            "public_id",
            "financial_year",
            "roll",
            "roll_name",
            "state",
            "total_parcels",
            "bills_created",
            "amount_billed",
            "percent",
            "job",
            "error",
            "started_at",
            "finished_at",
        ]

    def get_percent(self, run: BillingRun) -> int:
        return billing_run_percent(run)


class StartBillingInput(serializers.Serializer):
    financial_year = AsciiIntegerInput(
        min_value=1990, max_value=2200, help_text="2026 for July 2026 to June 2027."
    )


class StartedBillingOutput(serializers.Serializer):
    job = serializers.UUIDField(help_text="The background job; its run appears in the list.")
    progress_url = serializers.CharField(help_text="The staff page with the progress bar.")


def feature_collection(selection: MapSelection) -> dict[str, Any]:
    """The map's GeoJSON: one Feature per parcel, its status and balance as properties."""
    return {
        "type": "FeatureCollection",
        "truncated": selection.truncated,
        "bbox": list(selection.bounds) if selection.bounds else None,
        "features": [
            {
                "type": "Feature",
                "id": parcel.url_number,
                "geometry": parcel.boundary,
                "properties": {
                    "number": parcel.number,
                    "url_number": parcel.url_number,
                    "ward": parcel.ward,
                    "land_use": parcel.land_use,
                    "status": parcel.status,
                    "balance": f"{parcel.balance:.2f}",
                    "url": reverse("land:parcel_detail", args=[parcel.url_number]),
                },
            }
            for parcel in selection.parcels
        ],
    }
