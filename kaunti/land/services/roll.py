"""Valuation rolls: drafting, importing from CSV or Excel with a reject report, owners'
objections and their decisions, and approval (National Rating Act 2024, Part III-IV)."""

import csv
import io
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from kaunti.core.money import kes
from kaunti.core.services.audit import record_event
from kaunti.land.models import (
    Objection,
    ObjectionStatus,
    Owner,
    Parcel,
    RollEntry,
    RollImport,
    RollStatus,
    ValuationRoll,
    parcel_number_key,
)
from kaunti.land.services import acting_user

NUMBER_COLUMNS = ("parcel_number", "parcel", "number", "parcel_no")
VALUE_COLUMNS = ("site_value", "value")
DATE_COLUMNS = ("valuation_date", "date")
BATCH = 5000


@transaction.atomic
def create_roll(*, name: str, valuation_date: date, actor: Any | None) -> ValuationRoll:
    """Start a draft roll (e.g. "Valuation roll 2026"); entries are added or imported to it."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": [_("Name the roll.")]})
    roll = ValuationRoll.objects.create(
        name=name[:100], valuation_date=valuation_date, created_by=acting_user(actor)
    )
    record_event(
        actor=actor,
        action="land.roll_created",
        target=roll,
        data={"name": roll.name, "valuation_date": valuation_date},
    )
    return roll


def _locked_draft(roll: ValuationRoll) -> ValuationRoll:
    locked = ValuationRoll.objects.select_for_update().get(pk=roll.pk)
    if locked.status != RollStatus.DRAFT:
        raise ValidationError(_("Only a draft roll can be changed."), code="not_draft")
    return locked


def parse_amount(raw: Any) -> Decimal:
    if isinstance(raw, float):
        raw = repr(raw)
    text = str(raw if raw is not None else "").replace(",", "").replace("KES", "").strip()
    if not text:
        raise ValueError(_("the site value is missing"))
    # ASCII digits only: Decimal() would also read full-width or Arabic-Indic ones.
    if not text.isascii():
        raise ValueError(_("the site value %(value)s is not a number") % {"value": text})
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise ValueError(_("the site value %(value)s is not a number") % {"value": text}) from exc
    if not value.is_finite() or value < 0:
        raise ValueError(_("the site value cannot be negative"))
    if value >= Decimal("1e12"):
        raise ValueError(_("the site value is too large"))
    return kes(value)


def _parse_date(raw: Any, default: date) -> date:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return default
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(
        _("the valuation date %(value)s is not a date (use YYYY-MM-DD)") % {"value": text}
    )


def _header(cell: Any) -> str:
    """`" Parcel Number "` -> `"parcel_number"`."""
    return "_".join(str(cell or "").lower().split())


def read_rows(content: bytes, file_name: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(row number as a spreadsheet shows it, {header: value}) for each non-empty data row,
    from CSV (UTF-8) or Excel (.xlsx, first sheet); headers in lower case with `_` for spaces."""
    if file_name.lower().endswith((".xlsx", ".xlsm")):
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:
            raise ValidationError(_("This is not an Excel file we can read.")) from exc
        sheet = book.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        header = [_header(cell) for cell in next(rows, ())]
        for number, values in enumerate(rows, start=2):
            if values is None or all(v is None or str(v).strip() == "" for v in values):
                continue
            yield number, dict(zip(header, values, strict=False))
        book.close()
        return
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(_("The CSV file must be saved as UTF-8.")) from exc
    reader = csv.reader(io.StringIO(text))
    header = [_header(cell) for cell in next(reader, [])]
    for number, values in enumerate(reader, start=2):
        if not any(value.strip() for value in values):
            continue
        yield number, dict(zip(header, values, strict=False))


def _pick(row: dict[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if name in row:
            return row[name]
    return None


@transaction.atomic
def import_roll(
    *, roll: ValuationRoll, file_name: str, content: bytes, actor: Any | None
) -> RollImport:
    """Add entries to a draft roll from CSV or Excel (columns `parcel_number`, `site_value`,
    optional `valuation_date`). Good rows are kept; every other row is reported with its
    row number and the reason, and the report is stored for staff to read later."""
    locked = _locked_draft(roll)
    parsed: list[tuple[int, str, Decimal, date]] = []
    rejected: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    total = 0
    for row_number, row in read_rows(content, file_name):
        total += 1
        raw_number = str(_pick(row, NUMBER_COLUMNS) or "").strip()
        if not raw_number:
            rejected.append({"row": row_number, "reason": _("the parcel number is missing")})
            continue
        key = parcel_number_key(raw_number)
        if key in seen:
            rejected.append(
                {
                    "row": row_number,
                    "reason": _("parcel %(number)s is already on row %(row)s of this file")
                    % {"number": raw_number, "row": seen[key]},
                }
            )
            continue
        try:
            value = parse_amount(_pick(row, VALUE_COLUMNS))
            valued_on = _parse_date(_pick(row, DATE_COLUMNS), locked.valuation_date)
        except ValueError as exc:
            rejected.append({"row": row_number, "reason": str(exc)})
            continue
        seen[key] = row_number
        parsed.append((row_number, key, value, valued_on))
    if total == 0:
        raise ValidationError(_("The file has no rows under its header."))
    accepted = 0
    for start in range(0, len(parsed), BATCH):
        batch = parsed[start : start + BATCH]
        parcels = dict(
            Parcel.objects.filter(number_key__in=[key for _, key, _, _ in batch]).values_list(
                "number_key", "id"
            )
        )
        already = set(
            RollEntry.objects.filter(roll=locked, parcel_id__in=parcels.values()).values_list(
                "parcel_id", flat=True
            )
        )
        entries = []
        for row_number, key, value, valued_on in batch:
            parcel_id = parcels.get(key)
            if parcel_id is None:
                rejected.append(
                    {
                        "row": row_number,
                        "reason": _("no parcel %(number)s is registered") % {"number": key},
                    }
                )
            elif parcel_id in already:
                rejected.append(
                    {
                        "row": row_number,
                        "reason": _("parcel %(number)s is already on this roll") % {"number": key},
                    }
                )
            else:
                entries.append(
                    RollEntry(
                        roll=locked, parcel_id=parcel_id, site_value=value, valuation_date=valued_on
                    )
                )
        RollEntry.objects.bulk_create(entries, batch_size=2000)
        accepted += len(entries)
    rejected.sort(key=lambda item: item["row"])
    report = RollImport.objects.create(
        roll=locked,
        file_name=file_name[:200],
        total_rows=total,
        accepted_count=accepted,
        rejected_rows=rejected,
        imported_by=acting_user(actor),
    )
    record_event(
        actor=actor,
        action="land.roll_imported",
        target=locked,
        data={"file": report.file_name, "accepted": accepted, "rejected": len(rejected)},
    )
    return report


@transaction.atomic
def add_roll_entry(
    *, roll: ValuationRoll, parcel: Parcel, site_value: Decimal, valuation_date: date,
    actor: Any | None,
) -> RollEntry:  # fmt: skip
    """Put one parcel on a draft roll."""
    locked = _locked_draft(roll)
    if site_value < 0:
        raise ValidationError({"site_value": [_("The site value cannot be negative.")]})
    if RollEntry.objects.filter(roll=locked, parcel=parcel).exists():
        raise ValidationError(_("This parcel is already on the roll."))
    entry = RollEntry.objects.create(
        roll=locked, parcel=parcel, site_value=kes(site_value), valuation_date=valuation_date
    )
    record_event(
        actor=actor,
        action="land.roll_entry_added",
        target=entry,
        data={"parcel": parcel.number, "site_value": entry.site_value},
    )
    return entry


@transaction.atomic
def lodge_objection(
    *,
    entry: RollEntry,
    objector_name: str,
    grounds: str,
    actor: Any | None,
    proposed_value: Decimal | None = None,
    objector: Owner | None = None,
) -> Objection:
    """Record an owner's objection to an entry on a draft roll."""
    roll = ValuationRoll.objects.select_for_update().get(pk=entry.roll_id)
    if roll.status != RollStatus.DRAFT:
        raise ValidationError(_("Objections are taken only while the roll is a draft."))
    errors: dict[str, list[str]] = {}
    if not objector_name.strip():
        errors["objector_name"] = [_("Enter the objector's name.")]
    if not grounds.strip():
        errors["grounds"] = [_("Give the grounds of the objection.")]
    if proposed_value is not None and proposed_value < 0:
        errors["proposed_value"] = [_("The site value cannot be negative.")]
    if errors:
        raise ValidationError(errors)
    objection = Objection.objects.create(
        entry=entry,
        objector_name=" ".join(objector_name.split())[:150],
        objector=objector,
        grounds=grounds.strip(),
        proposed_value=kes(proposed_value) if proposed_value is not None else None,
        value_before=entry.site_value,
        lodged_by=acting_user(actor),
    )
    record_event(
        actor=actor,
        action="land.objection_lodged",
        target=objection,
        data={"parcel": entry.parcel.number, "proposed_value": objection.proposed_value},
    )
    return objection


@transaction.atomic
def decide_objection(
    *,
    objection: Objection,
    upheld: bool,
    reason: str,
    actor: Any,
    new_value: Decimal | None = None,
) -> Objection:
    """Decide an objection: upheld (the entry takes `new_value`) or dismissed, with reasons."""
    locked = Objection.objects.select_for_update().select_related("entry").get(pk=objection.pk)
    if locked.status != ObjectionStatus.PENDING:
        raise ValidationError(_("This objection has already been decided."))
    roll = ValuationRoll.objects.select_for_update().get(pk=locked.entry.roll_id)
    if roll.status != RollStatus.DRAFT:
        raise ValidationError(_("Only a draft roll can be changed."))
    if not reason.strip():
        raise ValidationError({"reason": [_("Give the reasons for the decision.")]})
    if upheld:
        if new_value is None or new_value < 0:
            raise ValidationError({"new_value": [_("Enter the site value decided.")]})
        entry = RollEntry.objects.select_for_update().get(pk=locked.entry_id)
        entry.site_value = kes(new_value)
        entry.save(update_fields=["site_value"])
        locked.decided_value = entry.site_value
    locked.status = ObjectionStatus.UPHELD if upheld else ObjectionStatus.DISMISSED
    locked.decision_reason = reason.strip()
    locked.decided_by = acting_user(actor)
    locked.decided_at = timezone.now()
    locked.save()
    record_event(
        actor=actor,
        action="land.objection_decided",
        target=locked,
        data={
            "status": locked.status,
            "value_before": locked.value_before,
            "value_after": locked.decided_value,
        },
    )
    return locked


@transaction.atomic
def approve_roll(*, roll: ValuationRoll, actor: Any) -> ValuationRoll:
    """Approve a draft roll and publish it for billing; the roll in force before it is
    superseded. Refused while objections await a decision or the roll is empty."""
    locked = _locked_draft(roll)
    if Objection.objects.filter(entry__roll=locked, status=ObjectionStatus.PENDING).exists():
        raise ValidationError(_("Decide every objection before approving the roll."))
    if not RollEntry.objects.filter(roll=locked).exists():
        raise ValidationError(_("The roll has no entries."))
    previous = list(ValuationRoll.objects.select_for_update().filter(status=RollStatus.PUBLISHED))
    ValuationRoll.objects.filter(pk__in=[r.pk for r in previous]).update(
        status=RollStatus.SUPERSEDED
    )
    locked.status = RollStatus.PUBLISHED
    locked.approved_by = acting_user(actor)
    locked.approved_at = timezone.now()
    locked.save(update_fields=["status", "approved_by", "approved_at"])
    record_event(
        actor=actor,
        action="land.roll_approved",
        target=locked,
        data={"name": locked.name, "supersedes": [r.name for r in previous]},
    )
    return locked
