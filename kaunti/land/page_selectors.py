"""Read-only queries the land pages and API need beyond `kaunti.land.selectors`.

Nothing here writes. Who may call these is decided by the views (`kaunti.land.permissions`:
a role granting the land action held in Lands, or for some actions the Revenue
Directorate); within those departments the register is the county's one register, so the
reads are not split further. The public balance check is the exception: it returns
only a balance and the bills to pay, never who owns the parcel.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Replace
from django.utils.translation import gettext_lazy as _

from kaunti.core.models import Department, Job
from kaunti.core.money import ZERO
from kaunti.land.models import (
    RATES_SOURCE_TYPE,
    BillingRun,
    LegacyImport,
    Objection,
    ObjectionStatus,
    Ownership,
    Parcel,
    ParcelCharge,
    ParcelDocument,
    RatingYear,
    RollEntry,
    RollImport,
    RollStatus,
    Transfer,
    ValuationRoll,
    WaiverCampaign,
    parcel_number_key,
)
from kaunti.land.services.billing import LANDS_DEPARTMENT
from kaunti.payments import selectors as payment_selectors
from kaunti.payments.models import Bill, BillStatus

MONEY: "DecimalField[Decimal, Decimal]" = DecimalField(max_digits=16, decimal_places=2)
DATA_DIR = Path(__file__).resolve().parent / "data"
WARD_OUTLINES = DATA_DIR / "ward_outlines.geojson"
MAP_FEATURE_LIMIT = 3000


class RatesStatus:
    """A parcel's colour on the map: what it owes on the roll in force."""

    PAID = "paid"
    ARREARS = "arrears"
    NOT_ON_ROLL = "not_on_roll"

    LABELS = {
        PAID: _("Nothing owed"),
        ARREARS: _("Owes rates"),
        NOT_ON_ROLL: _("Not on the roll"),
    }

    @classmethod
    def choices(cls) -> list[tuple[str, Any]]:
        return list(cls.LABELS.items())

    @classmethod
    def label(cls, status: str) -> Any:
        return cls.LABELS.get(status, status)


# --- Parcel numbers in URLs ---------------------------------------------------------------


def url_number(parcel: Parcel) -> str:
    """The parcel's number as it appears in URLs: the search key with `/` written `-`
    (`NYANDARUA-OLKALOU-1234`); `parcel_number_key` reads `-` back as `/`."""
    return parcel.number_key.replace("/", "-")


def get_parcel(*, number: str) -> Parcel | None:
    """A parcel by its number in any form people write it (or its URL form)."""
    key = parcel_number_key(number)
    if not key.strip("/"):
        return None
    return Parcel.objects.select_related("ward", "ward__sub_county").filter(number_key=key).first()


# --- Balances and status ------------------------------------------------------------------


def _balance_subquery() -> Subquery:
    owed = (
        Bill.objects.filter(land_charge__parcel=OuterRef("pk"))
        .exclude(status=BillStatus.CANCELLED)
        .order_by()
        .values("land_charge__parcel")
        .annotate(owed=Sum(F("total") - F("paid")))
        .values("owed")
    )
    return Subquery(owed, output_field=MONEY)


def with_rates(parcels: QuerySet[Parcel]) -> QuerySet[Parcel]:
    """Annotate `balance` (what the parcel owes now) and `is_on_roll` (an entry on the
    roll in force)."""
    on_roll = RollEntry.objects.filter(parcel=OuterRef("pk"), roll__status=RollStatus.PUBLISHED)
    return parcels.annotate(
        balance=Coalesce(_balance_subquery(), Value(ZERO), output_field=MONEY),
        is_on_roll=Exists(on_roll),
    )


def rates_status(*, balance: Decimal, is_on_roll: bool) -> str:
    """Owes anything: in arrears (whatever the roll); else paid up if on the roll."""
    if balance > 0:
        return RatesStatus.ARREARS
    return RatesStatus.PAID if is_on_roll else RatesStatus.NOT_ON_ROLL


def status_of(parcel: Parcel) -> str:
    """The status of a parcel annotated by `with_rates`."""
    return rates_status(balance=parcel.balance, is_on_roll=parcel.is_on_roll)  # type: ignore[attr-defined]


def get_parcel_with_rates(*, number: str) -> Parcel | None:
    key = parcel_number_key(number)
    if not key.strip("/"):
        return None
    return (
        with_rates(Parcel.objects.select_related("ward", "ward__sub_county"))
        .filter(number_key=key)
        .first()
    )


# --- Search -------------------------------------------------------------------------------


def search_parcels(*, query: str = "", ward_code: str = "", status: str = "") -> QuerySet[Parcel]:
    """Parcels whose number (normalised), current owner's name, national ID or KRA PIN
    matches `query`, in `ward_code` if given, with their balance and roll status."""
    parcels = with_rates(Parcel.objects.select_related("ward"))
    text = " ".join(query.split())
    if text:
        key = parcel_number_key(text)
        current = Ownership.objects.filter(
            parcel=OuterRef("pk"), ended_on__isnull=True, ended_by__isnull=True
        ).filter(
            Q(owner__name__icontains=text)
            | Q(owner__national_id=text)
            | Q(owner__kra_pin=text.upper())
        )
        # Spaces and separators are ignored: "nyandarua olkalou-1001" finds 1001.
        compact = key.replace("/", "")
        parcels = parcels.annotate(
            compact_number=Replace(F("number_key"), Value("/"), Value(""))
        ).filter(
            Q(number_key__contains=key) | Q(compact_number__contains=compact) | Exists(current)
        )
    if ward_code:
        parcels = parcels.filter(ward__code=ward_code)
    if status == RatesStatus.ARREARS:
        parcels = parcels.filter(Q(balance__gt=0))
    elif status == RatesStatus.PAID:
        parcels = parcels.filter(Q(balance__lte=0) & Q(is_on_roll=True))
    elif status == RatesStatus.NOT_ON_ROLL:
        parcels = parcels.filter(Q(balance__lte=0) & Q(is_on_roll=False))
    return parcels.order_by("number_key")


def list_current_owners(*, parcels: Sequence[Parcel]) -> dict[int, list[Ownership]]:
    """Each parcel's current holdings (one query for a page of parcels)."""
    found: dict[int, list[Ownership]] = {parcel.pk: [] for parcel in parcels}
    holdings = (
        Ownership.objects.filter(
            parcel__in=[parcel.pk for parcel in parcels],
            ended_on__isnull=True,
            ended_by__isnull=True,
        )
        .select_related("owner")
        .order_by("parcel_id", "id")
    )
    for holding in holdings:
        found[holding.parcel_id].append(holding)
    return found


# --- One parcel ---------------------------------------------------------------------------


def list_ownership_history(*, parcel: Parcel) -> list[Ownership]:
    """Every holding of the parcel, current and past, oldest first."""
    return list(
        Ownership.objects.filter(parcel=parcel)
        .select_related("owner", "started_by", "ended_by")
        .order_by("started_on", "id")
    )


def list_transfers(*, parcel: Parcel) -> list[Transfer]:
    return list(
        Transfer.objects.filter(parcel=parcel)
        .select_related("recorded_by")
        .prefetch_related("new_ownerships__owner", "ended_ownerships__owner", "documents")
        .order_by("-registered_on", "-id")
    )


def get_parcel_document(*, public_id: Any) -> ParcelDocument | None:
    return ParcelDocument.objects.filter(public_id=public_id).first()


def list_parcel_roll_entries(*, parcel: Parcel) -> list[RollEntry]:
    return list(
        RollEntry.objects.filter(parcel=parcel)
        .select_related("roll")
        .order_by("-roll__valuation_date", "-id")
    )


def list_parcel_charges(*, parcel: Parcel) -> list[ParcelCharge]:
    """The bills raised on the parcel, oldest first, with the bill's state."""
    return list(
        ParcelCharge.objects.filter(parcel=parcel)
        .select_related("bill")
        .order_by("financial_year", "period", "id")
    )


def may_open_rates_bills(*, user: Any) -> bool:
    """May `user` open a parcel's bills (all raised under Lands for `land.rates`) on the
    bill pages? The parcel page links its bill numbers only then."""
    lands = Department.objects.filter(code=LANDS_DEPARTMENT).first()
    return lands is not None and payment_selectors.may_view_bills_of(
        user=user, department=lands, source_type=RATES_SOURCE_TYPE
    )


# --- Map ----------------------------------------------------------------------------------

BBox = tuple[float, float, float, float]


def parse_bbox(raw: str) -> BBox | None:
    """`west,south,east,north` in degrees; None when absent. ValueError when malformed."""
    if not raw:
        return None
    parts = [float(part) for part in raw.split(",")]
    if len(parts) != 4:
        raise ValueError("bbox needs four numbers")
    west, south, east, north = parts
    if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
        raise ValueError("bbox out of range")
    return west, south, east, north


def parcel_extent(parcel: Parcel) -> BBox | None:
    """The box around a parcel's boundary (stored with it); None without a boundary."""
    west, south = parcel.min_longitude, parcel.min_latitude
    east, north = parcel.max_longitude, parcel.max_latitude
    if west is None or south is None or east is None or north is None:
        return None
    return west, south, east, north


@dataclass(frozen=True)
class MapParcel:
    number: str
    url_number: str
    ward: str
    status: str
    balance: Decimal
    land_use: str
    boundary: dict[str, Any]


@dataclass(frozen=True)
class MapSelection:
    parcels: list[MapParcel]
    truncated: bool
    bounds: BBox | None


def list_map_parcels(
    *, bbox: BBox | None = None, ward_code: str = "", limit: int = MAP_FEATURE_LIMIT
) -> MapSelection:
    """Parcels with a boundary (touching `bbox` if given), with their status, for the map.

    There is no PostGIS: the box is tested by the database against each boundary's
    extent, stored beside it (`min_longitude` ... `max_latitude`, indexed by
    `parcel_extent_idx`), so one query reads the parcels in view and no others.
    """
    parcels = Parcel.objects.filter(min_longitude__isnull=False)
    if bbox is not None:
        west, south, east, north = bbox
        parcels = parcels.filter(
            min_longitude__lte=east,
            max_longitude__gte=west,
            min_latitude__lte=north,
            max_latitude__gte=south,
        )
    if ward_code:
        parcels = parcels.filter(ward__code=ward_code)
    rows = list(with_rates(parcels.select_related("ward")).order_by("number_key")[: limit + 1])
    found = [
        MapParcel(
            number=parcel.number,
            url_number=url_number(parcel),
            ward=parcel.ward.name,
            status=status_of(parcel),
            balance=parcel.balance,  # type: ignore[attr-defined]
            land_use=parcel.land_use,
            boundary=dict(parcel.boundary or {}),
        )
        for parcel in rows[:limit]
    ]
    return MapSelection(parcels=found, truncated=len(rows) > limit, bounds=_extent(rows[:limit]))


def _extent(parcels: Iterable[Parcel]) -> BBox | None:
    """The box around the boundaries of `parcels` (None for none)."""
    boxes = [box for parcel in parcels if (box := parcel_extent(parcel)) is not None]
    if not boxes:
        return None
    return (
        min(box[0] for box in boxes),
        min(box[1] for box in boxes),
        max(box[2] for box in boxes),
        max(box[3] for box in boxes),
    )


def load_ward_outlines() -> dict[str, Any]:
    """The ward outlines drawn on the map (GeoJSON). The demo's are illustrative only: the
    file says so in its `description`; a county replaces it with its own boundaries."""
    outlines: dict[str, Any] = json.loads(WARD_OUTLINES.read_text(encoding="utf-8"))
    return outlines


def get_parcels_extent() -> BBox | None:
    """The box around every parcel with a boundary (where the map opens): one aggregate
    over the stored extents, read from `parcel_extent_idx` alone."""
    box = Parcel.objects.filter(min_longitude__isnull=False).aggregate(
        west=Min("min_longitude"),
        south=Min("min_latitude"),
        east=Max("max_longitude"),
        north=Max("max_latitude"),
    )
    if box["west"] is None:
        return None
    return (box["west"], box["south"], box["east"], box["north"])


def count_parcels_by_status() -> dict[str, int]:
    """How many parcels are paid up, owe rates, or are on no roll (one query)."""
    counts = with_rates(Parcel.objects.all()).aggregate(
        arrears=Count("pk", filter=Q(balance__gt=0)),
        paid=Count("pk", filter=Q(balance__lte=0) & Q(is_on_roll=True)),
        not_on_roll=Count("pk", filter=Q(balance__lte=0) & Q(is_on_roll=False)),
    )
    return {status: int(counts[status] or 0) for status, _label in RatesStatus.choices()}


# --- Rolls --------------------------------------------------------------------------------


def list_rolls() -> QuerySet[ValuationRoll]:
    return ValuationRoll.objects.annotate(
        entry_count=Count("entries", distinct=True),
        pending_objections=Count(
            "entries__objections",
            filter=Q(entries__objections__status=ObjectionStatus.PENDING),
            distinct=True,
        ),
    ).order_by("-valuation_date", "-id")


def get_roll(*, public_id: Any) -> ValuationRoll | None:
    return list_rolls().filter(public_id=public_id).first()


def list_roll_entries(*, roll: ValuationRoll, query: str = "") -> QuerySet[RollEntry]:
    entries = RollEntry.objects.filter(roll=roll).select_related("parcel", "parcel__ward")
    if query.strip():
        entries = entries.filter(parcel__number_key__contains=parcel_number_key(query))
    return entries.annotate(
        pending_objections=Count("objections", filter=Q(objections__status=ObjectionStatus.PENDING))
    ).order_by("parcel__number_key")


def list_roll_imports(*, roll: ValuationRoll) -> list[RollImport]:
    return list(RollImport.objects.filter(roll=roll).select_related("imported_by"))


def get_roll_import(*, public_id: Any) -> RollImport | None:
    return (
        RollImport.objects.select_related("roll", "imported_by").filter(public_id=public_id).first()
    )


def list_roll_objections(*, roll: ValuationRoll) -> list[Objection]:
    """A roll's objections, those awaiting a decision first."""
    return sorted(
        Objection.objects.filter(entry__roll=roll).select_related(
            "entry", "entry__parcel", "decided_by"
        ),
        key=lambda objection: (objection.status != ObjectionStatus.PENDING, -objection.pk),
    )


def get_objection(*, public_id: Any) -> Objection | None:
    return (
        Objection.objects.select_related("entry", "entry__roll", "entry__parcel")
        .filter(public_id=public_id)
        .first()
    )


def get_legacy_import(*, public_id: Any) -> LegacyImport | None:
    return LegacyImport.objects.select_related("imported_by").filter(public_id=public_id).first()


def get_roll_entry(*, roll: ValuationRoll, number: str) -> RollEntry | None:
    key = parcel_number_key(number)
    return (
        RollEntry.objects.select_related("roll", "parcel")
        .filter(roll=roll, parcel__number_key=key)
        .first()
    )


# --- Rating -------------------------------------------------------------------------------


def list_rating_years() -> list[RatingYear]:
    return list(RatingYear.objects.prefetch_related("rules").order_by("-financial_year")[:20])


def get_rating_year(*, financial_year: int) -> RatingYear | None:
    return RatingYear.objects.filter(financial_year=financial_year).first()


def list_waiver_campaigns() -> list[WaiverCampaign]:
    return list(WaiverCampaign.objects.order_by("-starts_on")[:50])


# --- Billing runs -------------------------------------------------------------------------


def list_billing_runs() -> QuerySet[BillingRun]:
    return BillingRun.objects.select_related("roll", "job", "started_by").order_by(
        "-started_at", "-id"
    )


def get_billing_run(*, public_id: Any) -> BillingRun | None:
    return list_billing_runs().filter(public_id=public_id).first()


BILLING_JOB_KIND = "land.bill_rates"


def get_billing_job(*, public_id: Any) -> Job | None:
    """A rates billing job (only those: other jobs are not the land pages' to show)."""
    return Job.objects.filter(public_id=public_id, kind=BILLING_JOB_KIND).first()


def get_billing_run_of_job(*, job: Job) -> BillingRun | None:
    return list_billing_runs().filter(job=job).first()


def billing_run_percent(run: BillingRun) -> int:
    """How far a run is, from its job when it has one (the task advances it)."""
    job: Job | None = run.job
    if job is not None:
        return job.percent
    if not run.total_parcels:
        return 100 if run.state == "finished" else 0
    return min(100, run.bills_created * 100 // run.total_parcels)


# --- The public balance check -------------------------------------------------------------


@dataclass(frozen=True)
class PublicBalance:
    """What anyone may learn of a parcel: its number, what it owes and the bills to pay."""

    number: str
    balance: Decimal
    open_bills: list[Bill]


def get_public_balance(*, number: str) -> PublicBalance | None:
    parcel = get_parcel(number=number)
    if parcel is None:
        return None
    bills = list(
        Bill.objects.filter(
            land_charge__parcel=parcel, status__in=[BillStatus.OPEN, BillStatus.PARTLY_PAID]
        ).order_by("due_on", "created_at")
    )
    balance = sum((bill.total - bill.paid for bill in bills), ZERO)
    return PublicBalance(number=parcel.number, balance=balance, open_bills=bills)
