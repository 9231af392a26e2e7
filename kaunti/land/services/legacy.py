"""Cut-over from a legacy rates system: parcels, owners and opening arrears from its CSV.

Columns (header row, any order): `parcel_number`, `ward_code`, `area_hectares`,
`land_use`, `tenure` (optional, default freehold), `zone` (optional), `owner_name`,
`owner_kind` (optional: individual or organisation), `national_id`, `kra_pin`, `phone`
(optional), `arrears` (optional, KES). Joint owners go in one row, separated by `;` in
`owner_name`, `national_id`, `kra_pin` (and `owner_kind`), with optional `shares` such as
`1/2;1/2` (equal shares when left out).

Each row is its own transaction: good rows are kept, every other row is reported with its
row number and the reason, and the report is stored. Opening arrears become an "arrears
brought forward" bill through payments (source `land.rates`, `<parcel id>:arrears`).
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core.identifiers import is_ascii_digits
from kaunti.core.language import in_both_languages
from kaunti.core.models import Department, Ward
from kaunti.core.money import ZERO, financial_year
from kaunti.core.services.audit import record_event
from kaunti.land.models import (
    RATES_SOURCE_TYPE,
    ChargeKind,
    LegacyImport,
    OwnerKind,
    Parcel,
    ParcelCharge,
    Tenure,
    parcel_number_key,
)
from kaunti.land.services.billing import LANDS_DEPARTMENT, RATES_STREAM
from kaunti.land.services.owners import ShareInput, find_or_create_owner, register_first_owners
from kaunti.land.services.parcels import ParcelInput, register_parcel
from kaunti.land.services.rating import financial_year_start
from kaunti.land.services.roll import parse_amount, read_rows
from kaunti.payments.services.bills import LineInput, Payer, create_bill


class RowRejected(Exception):
    """A row of the file that cannot be imported, with the reason to report."""


def _split(value: Any) -> list[str]:
    return [part.strip() for part in str(value or "").split(";")]


def _shares(raw: str, count: int) -> list[tuple[int, int]]:
    if not raw.strip():
        return [(1, count)] * count
    shares = []
    for part in _split(raw):
        numerator, _slash, denominator = part.partition("/")
        try:
            shares.append((int(numerator), int(denominator or 1)))
        except ValueError as exc:
            raise RowRejected(_("the share %(share)s is not a fraction") % {"share": part}) from exc
    if len(shares) != count:
        raise RowRejected(
            _("there are %(n)s shares for %(m)s owners") % {"n": len(shares), "m": count}
        )
    return shares


def _message(exc: ValidationError) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


@dataclass(frozen=True)
class _Context:
    wards: dict[str, Ward]
    department: Department
    started_on: date
    actor: Any | None


def _import_row(row: dict[str, Any], ctx: _Context) -> Decimal:
    def text(name: str) -> str:
        return str(row.get(name) or "").strip()

    ward = ctx.wards.get(text("ward_code"))
    if ward is None:
        raise RowRejected(_("the ward code %(code)s is unknown") % {"code": text("ward_code")})
    arrears = parse_amount(text("arrears") or "0")
    try:
        parcel = register_parcel(
            data=ParcelInput(
                number=text("parcel_number"),
                ward=ward,
                area_hectares=Decimal(text("area_hectares") or "0")
                if is_ascii_digits(text("area_hectares").replace(".", "", 1))
                else Decimal(0),
                land_use=text("land_use").lower(),
                tenure=text("tenure").lower() or Tenure.FREEHOLD,
                zone=text("zone"),
            ),
            actor=ctx.actor,
        )
    except ValidationError as exc:
        raise RowRejected(_message(exc)) from exc
    names = _split(row.get("owner_name"))
    if not any(names):
        raise RowRejected(_("the owner's name is missing"))
    ids, pins, kinds = (
        _split(row.get("national_id")),
        _split(row.get("kra_pin")),
        _split(row.get("owner_kind")),
    )
    shares = _shares(text("shares"), len(names))
    share_inputs = []
    for index, name in enumerate(names):
        kind = (kinds[index] if index < len(kinds) else "").lower() or OwnerKind.INDIVIDUAL
        try:
            owner = find_or_create_owner(
                kind=kind,
                name=name,
                national_id=ids[index] if index < len(ids) else "",
                kra_pin=pins[index] if index < len(pins) else "",
                phone=text("phone") if index == 0 else "",
                actor=ctx.actor,
            )
        except ValidationError as exc:
            raise RowRejected(f"{name}: {_message(exc)}") from exc
        share_inputs.append(ShareInput(owner, *shares[index]))
    try:
        register_first_owners(
            parcel=parcel, shares=share_inputs, started_on=ctx.started_on, actor=ctx.actor
        )
    except ValidationError as exc:
        raise RowRejected(_message(exc)) from exc
    if arrears > 0:
        first = share_inputs[0].owner
        year = financial_year(ctx.started_on)
        line_text, line_text_sw = in_both_languages(lambda: _("Land rates arrears brought forward"))
        bill_text, bill_text_sw = in_both_languages(
            lambda: _("Land rates arrears brought forward, %(parcel)s") % {"parcel": parcel.number}
        )
        bill = create_bill(
            payer=Payer(
                name=" & ".join(s.owner.name for s in share_inputs)[:150],
                phone=first.phone,
                id_number=first.national_id,
                kra_pin=first.kra_pin,
            ),
            lines=[
                LineInput(
                    stream_code=RATES_STREAM,
                    unit_price=arrears,
                    description=line_text,
                    description_sw=line_text_sw,
                )
            ],
            department=ctx.department,
            due_on=ctx.started_on,
            description=bill_text,
            description_sw=bill_text_sw,
            actor=ctx.actor,
            ward=ward,
            source_type=RATES_SOURCE_TYPE,
            source_ref=f"{parcel.pk}:arrears",
        )
        ParcelCharge.objects.create(
            parcel=parcel,
            kind=ChargeKind.ARREARS,
            financial_year=year,
            period=financial_year_start(year),
            bill=bill,
            amount=bill.total,
        )
    return arrears


def import_legacy_parcels(
    *, file_name: str, content: bytes, actor: Any | None, started_on: date | None = None
) -> LegacyImport:
    """Import parcels, owners and opening arrears from a legacy CSV (or .xlsx) export.

    Rows whose parcel is already registered are rejected, so importing a file again adds
    nothing twice. Returns the stored report.
    """
    ctx = _Context(
        wards={ward.code: ward for ward in Ward.objects.all()},
        department=Department.objects.get(code=LANDS_DEPARTMENT),
        started_on=started_on or timezone.localdate(),
        actor=actor,
    )
    rejected: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    total, accepted, arrears_total = 0, 0, ZERO
    for row_number, row in read_rows(content, file_name):
        total += 1
        key = parcel_number_key(str(row.get("parcel_number") or ""))
        try:
            if not key:
                raise RowRejected(_("the parcel number is missing"))
            if key in seen:
                raise RowRejected(
                    _("the parcel is already on row %(row)s of this file") % {"row": seen[key]}
                )
            seen[key] = row_number
            if Parcel.objects.filter(number_key=key).exists():
                raise RowRejected(_("the parcel is already registered"))
            with transaction.atomic():
                arrears_total += _import_row(row, ctx)
            accepted += 1
        except RowRejected as exc:
            rejected.append({"row": row_number, "reason": str(exc)})
        except ValueError as exc:  # an amount that is not one
            rejected.append({"row": row_number, "reason": str(exc)})
    with transaction.atomic():
        report = LegacyImport.objects.create(
            file_name=file_name[:200],
            total_rows=total,
            accepted_count=accepted,
            rejected_rows=rejected,
            arrears_total=arrears_total,
            imported_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        record_event(
            actor=actor,
            action="land.legacy_imported",
            target=report,
            data={"accepted": accepted, "rejected": len(rejected), "arrears": arrears_total},
        )
    return report
