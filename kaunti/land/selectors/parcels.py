"""Parcels and their owners as the land pages, the API and the clearance read them:
lookups by number in any written form, search, owners, documents, and the rates status
(annotated balance and roll entry) that colours lists and maps."""

from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db.models import (
    DecimalField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Replace
from django.utils.translation import gettext_lazy as _

from kaunti.core.models import Department
from kaunti.core.money import ZERO
from kaunti.land.models import (
    RATES_SOURCE_TYPE,
    Ownership,
    Parcel,
    ParcelCharge,
    ParcelDocument,
    RollEntry,
    RollStatus,
    Transfer,
    parcel_number_key,
)
from kaunti.land.services.billing import LANDS_DEPARTMENT
from kaunti.payments.models import Bill, BillStatus
from kaunti.payments.selectors.bills import may_view_bills_of


def get_parcel_by_number(*, number: str) -> Parcel | None:
    """The parcel with this number, typed loosely (case, spaces, `-` or `/`)."""
    key = parcel_number_key(number)
    if not key:
        return None
    return Parcel.objects.select_related("ward").filter(number_key=key).first()


def current_ownerships(*, parcel: Parcel) -> list[Ownership]:
    """Who holds the parcel now, with their shares."""
    return list(
        Ownership.objects.filter(parcel=parcel, ended_on__isnull=True)
        .select_related("owner")
        .order_by("id")
    )


def ownership_history(*, parcel: Parcel) -> list[Ownership]:
    """Every holding the parcel has had, newest first, with the transfers that began and
    ended them."""
    return list(
        Ownership.objects.filter(parcel=parcel)
        .select_related("owner", "started_by", "ended_by")
        .order_by("-started_on", "id")
    )


def owner_names(ownerships: Iterable[Ownership], *, limit: int = 60) -> str:
    """`"Wanjiku Kamau & John Mwangi"`, shortened with `+2` beyond `limit` characters."""
    names = [holding.owner.name for holding in ownerships]
    if not names:
        return ""
    text = names[0]
    for index, name in enumerate(names[1:], start=1):
        candidate = f"{text} & {name}"
        if len(candidate) > limit:
            return f"{text} +{len(names) - index}"
        text = candidate
    return text


def parcel_number_example() -> str:
    """A real parcel number of this register, to show the format in hints; a made-up one
    in the same form when the register is empty."""
    number = Parcel.objects.order_by("id").values_list("number", flat=True).first()
    return number or "NYANDARUA/OL KALOU TOWNSHIP/287"


MONEY: "DecimalField[Decimal, Decimal]" = DecimalField(max_digits=16, decimal_places=2)


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
    return lands is not None and may_view_bills_of(
        user=user, department=lands, source_type=RATES_SOURCE_TYPE
    )
