"""The annual rates billing: one bill per rateable parcel on the roll in force, per year.

A run works through the roll in parcel-id order, in chunks. Each chunk is one
transaction: its bills, bill lines and parcel charges, ONE balanced journal entry for
the chunk (receivables debited, land-rates revenue credited, per ward) and one audit
event naming the count and the parcel range; the run's progress (last parcel id) is
saved in the same transaction. So a run stopped at any point (an error, `kill -9`)
leaves whole chunks only, and running the year again picks up after the last one.
Nothing is billed twice: parcels that already have the year's charge are skipped, and
`ParcelCharge` (parcel, kind, period) and payments' (source_type, source_ref) are unique
in the database. On PostgreSQL the rows go in with `COPY` (ids drawn from the sequences
first), and chunks of one year take an advisory lock so two runs cannot race.

Rates are raised under the National Rating Act 2024 (s. 5: the rate as a percentage of
the value on the roll; the county's rating law sets the rates and the minimum).
"""

import secrets
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core import jobs
from kaunti.core.audit import record_event
from kaunti.core.models import Department, Job
from kaunti.core.money import ZERO
from kaunti.land.models import (
    RATES_SOURCE_TYPE,
    BillingRun,
    ChargeKind,
    Ownership,
    ParcelCharge,
    RatingRule,
    RatingYear,
    RollEntry,
    RollStatus,
    RunState,
    ValuationRoll,
)
from kaunti.land.services.rating import (
    choose_rule,
    compute_rates,
    financial_year_start,
    format_financial_year,
)
from kaunti.ledger import services as ledger
from kaunti.payments.models import Bill, BillLine, RevenueStream
from kaunti.payments.numbers import BILL_ALPHABET, BILL_BODY_LENGTH, check_character
from kaunti.payments.services.bills import RECEIVABLES, Payer, payer_key_for

RATES_STREAM = "land-rates"
LANDS_DEPARTMENT = "lands"
DEFAULT_CHUNK = 10000
_LOCK_NAMESPACE = 0x4C414E44  # "LAND": with the year, the key of the run's advisory lock
_MAX_ATTEMPTS = 5

ProgressCallback = Callable[[int, int], None]


def _user(actor: Any | None) -> Any | None:
    return actor if actor is not None and getattr(actor, "is_authenticated", False) else None


def rates_source_ref(*, parcel_id: int, financial_year: int) -> str:
    """The bill's source reference for a parcel's rates in a year: `"<parcel id>:<year>"`."""
    return f"{parcel_id}:{financial_year}"


@dataclass(frozen=True)
class PayerOfParcel:
    name: str
    id_number: str
    kra_pin: str
    phone: str


def payers_for_parcels(
    parcel_ids: list[int] | None = None, *, id_range: tuple[int, int] | None = None
) -> dict[int, PayerOfParcel]:
    """The current owners of each parcel as one payer: names joined, the first owner's IDs.

    For the parcels named, or for all parcels with ids in `id_range` (first, last), which
    is one index range scan instead of a list of thousands of ids to send.
    """
    current = Ownership.objects.filter(ended_on__isnull=True)
    if id_range is not None:
        current = current.filter(parcel_id__gte=id_range[0], parcel_id__lte=id_range[1])
    else:
        current = current.filter(parcel_id__in=parcel_ids or [])
    holdings = current.order_by("parcel_id", "id").values_list(
        "parcel_id", "owner__name", "owner__national_id", "owner__kra_pin", "owner__phone"
    )
    grouped: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
    for parcel_id, name, national_id, kra_pin, phone in holdings:
        grouped[parcel_id].append((name, national_id, kra_pin, phone))
    payers = {}
    for parcel_id, owners in grouped.items():
        names = " & ".join(owner[0] for owner in owners)
        if len(names) > 150:
            names = f"{owners[0][0][:140]} +{len(owners) - 1}"
        first = owners[0]
        payers[parcel_id] = PayerOfParcel(names, first[1], first[2], first[3])
    return payers


@dataclass(frozen=True)
class _NewBill:
    parcel_id: int
    parcel_number: str
    ward_id: int
    site_value: Decimal
    amount: Decimal
    payer: PayerOfParcel


@dataclass(frozen=True)
class BillingContext:
    financial_year: int
    rating_year: RatingYear
    rules: list[RatingRule]
    roll: ValuationRoll
    department: Department
    stream: RevenueStream
    actor: Any | None


def billing_context(*, financial_year: int, actor: Any | None) -> BillingContext:
    rating_year = RatingYear.objects.filter(financial_year=financial_year).first()
    if rating_year is None:
        raise ValidationError(
            _("Set the rating terms for %(year)s before billing.")
            % {"year": format_financial_year(financial_year)}
        )
    rules = list(RatingRule.objects.filter(rating_year=rating_year))
    if not rules:
        raise ValidationError(
            _("Set the rates for %(year)s before billing.")
            % {"year": format_financial_year(financial_year)}
        )
    roll = ValuationRoll.objects.filter(status=RollStatus.PUBLISHED).first()
    if roll is None:
        raise ValidationError(_("No valuation roll is approved for billing."))
    stream = RevenueStream.objects.select_related("account").filter(code=RATES_STREAM).first()
    if stream is None:
        raise ValidationError(_("The land rates revenue stream is not in the price list."))
    department = Department.objects.get(code=LANDS_DEPARTMENT)
    return BillingContext(
        financial_year, rating_year, rules, roll, department, stream, actor
    )  # fmt: skip


def _eligible(roll: ValuationRoll) -> Any:
    return RollEntry.objects.filter(roll=roll, parcel__is_rateable=True)


def _price_chunk(ctx: BillingContext, after_id: int, size: int) -> tuple[list[_NewBill], int, int]:
    """The chunk's parcels still to bill, the last parcel id looked at, and how many parcels
    were looked at (some are skipped: already billed, no rule, or nothing to charge)."""
    # Plain SQL with the lower bound on both sides of the join: the planner does not carry
    # `>` across an equality, and without it each chunk would scan the parcels from the
    # first one (quadratic over a million).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT e.parcel_id, e.site_value, p.number, p.ward_id, p.land_use, p.zone"
            " FROM land_rollentry e JOIN land_parcel p ON p.id = e.parcel_id"
            " WHERE e.roll_id = %s AND e.parcel_id > %s AND p.id > %s AND p.is_rateable"
            " ORDER BY e.parcel_id LIMIT %s",
            [ctx.roll.pk, after_id, after_id, size],
        )
        rows = [
            (pid, Decimal(value), number, ward_id, land_use, zone)
            for pid, value, number, ward_id, land_use, zone in cursor.fetchall()
        ]
    if not rows:
        return [], after_id, 0
    ids = [row[0] for row in rows]
    billed = set(
        ParcelCharge.objects.filter(
            parcel_id__gte=ids[0],
            parcel_id__lte=ids[-1],
            kind=ChargeKind.RATES,
            period=financial_year_start(ctx.financial_year),
        ).values_list("parcel_id", flat=True)
    )
    payers = payers_for_parcels(id_range=(ids[0], ids[-1]))
    new: list[_NewBill] = []
    rule_cache: dict[tuple[str, str], RatingRule | None] = {}
    for parcel_id, site_value, number, ward_id, land_use, zone in rows:
        if parcel_id in billed:
            continue
        key = (land_use, zone)
        if key not in rule_cache:
            rule_cache[key] = choose_rule(ctx.rules, land_use=land_use, zone=zone)
        rule = rule_cache[key]
        amount = (
            compute_rates(
                site_value=site_value,
                rate_percent=rule.rate_percent,
                minimum_charge=rule.minimum_charge,
            )
            if rule is not None
            else ZERO
        )
        if amount <= 0:
            continue
        payer = payers.get(parcel_id) or PayerOfParcel(
            _("Registered owner of %(number)s") % {"number": number}, "", "", ""
        )
        new.append(_NewBill(parcel_id, number, ward_id, site_value, amount, payer))
    return new, ids[-1], len(ids)


def _description_template(ctx: BillingContext) -> str:
    """The bills' description with `{parcel}` left to fill (translated once per chunk)."""
    return _("Land rates %(year)s, %(parcel)s") % {
        "year": format_financial_year(ctx.financial_year),
        "parcel": "{parcel}",
    }


def bill_numbers(count: int) -> list[str]:
    """`count` bill numbers drawn as payments draws them (8 random characters of its
    alphabet and its check character), from one call to the system's random source
    instead of eight per number: a million numbers take a second, not a minute.
    Uniqueness is the database's to enforce, as in `create_bill`."""
    numbers: list[str] = []
    alphabet_size = len(BILL_ALPHABET)
    limit = 256 - 256 % alphabet_size  # bytes at or above it would favour some symbols
    while len(numbers) < count:
        wanted = (count - len(numbers)) * BILL_BODY_LENGTH
        symbols = [
            BILL_ALPHABET[byte % alphabet_size]
            for byte in secrets.token_bytes(wanted + wanted // 8 + 16)
            if byte < limit
        ]
        for start in range(0, len(symbols) - BILL_BODY_LENGTH + 1, BILL_BODY_LENGTH):
            if len(numbers) == count:
                break
            body = "".join(symbols[start : start + BILL_BODY_LENGTH])
            numbers.append(body + check_character(body))
    return numbers


def _copy_rows(cursor: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def _draw_ids(cursor: Any, table: str, count: int) -> list[int]:
    """`count` ids from the table's own sequence (so later ORM inserts never collide)."""
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
    sequence = cursor.fetchone()[0]
    cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count])
    return [row[0] for row in cursor.fetchall()]


def _write_postgresql(ctx: BillingContext, run: BillingRun, new: list[_NewBill]) -> None:
    """Insert the chunk's bills, lines and charges with COPY (ids drawn beforehand)."""
    now = timezone.now()
    user = _user(ctx.actor)
    user_id = user.pk if user else None
    period = financial_year_start(ctx.financial_year)
    due_on = ctx.rating_year.due_on
    raw = connection.connection  # the psycopg connection under Django's wrapper
    # Its errors raised as Django's (a unique violation as IntegrityError: a retry).
    with connection.wrap_database_errors, raw.cursor() as cursor:
        bill_ids = _draw_ids(cursor, "payments_bill", len(new))
        line_ids = _draw_ids(cursor, "payments_billline", len(new))
        charge_ids = _draw_ids(cursor, "land_parcelcharge", len(new))
        bill_rows = []
        template = _description_template(ctx)
        numbers = bill_numbers(len(new))
        for bill_id, number, item in zip(bill_ids, numbers, new, strict=True):
            payer = item.payer
            bill_rows.append(
                (
                    bill_id, number, payer.name, payer.phone, payer.id_number,
                    payer.kra_pin,
                    payer_key_for(Payer(payer.name, payer.phone, payer.id_number, payer.kra_pin)),
                    None, ctx.department.pk, item.ward_id,
                    template.format(parcel=item.parcel_number)[:200], due_on, "open", item.amount,
                    ZERO, RATES_SOURCE_TYPE,
                    rates_source_ref(parcel_id=item.parcel_id, financial_year=ctx.financial_year),
                    user_id, now,
                )
            )  # fmt: skip
        _copy_rows(
            cursor,
            "payments_bill",
            [
                "id", "number", "payer_name", "payer_phone", "payer_id_number", "payer_kra_pin",
                "payer_key", "payer_user_id", "department_id", "ward_id", "description",
                "due_on", "status", "total", "paid", "source_type", "source_ref",
                "created_by_id", "created_at",
            ],
            bill_rows,
        )  # fmt: skip
        line_description = ctx.stream.name[:200]
        _copy_rows(
            cursor,
            "payments_billline",
            ["id", "bill_id", "stream_id", "description", "quantity", "unit_price", "amount"],
            [
                (line_id, bill_id, ctx.stream.pk, line_description, 1, item.amount, item.amount)
                for line_id, bill_id, item in zip(line_ids, bill_ids, new, strict=True)
            ],
        )
        _copy_rows(
            cursor,
            "land_parcelcharge",
            [
                "id", "parcel_id", "kind", "financial_year", "period", "bill_id", "amount",
                "site_value", "run_id", "created_at",
            ],
            [
                (
                    charge_id, item.parcel_id, ChargeKind.RATES.value, ctx.financial_year,
                    period, bill_id, item.amount, item.site_value, run.pk, now,
                )
                for charge_id, bill_id, item in zip(charge_ids, bill_ids, new, strict=True)
            ],
        )  # fmt: skip


def _write_orm(ctx: BillingContext, run: BillingRun, new: list[_NewBill]) -> None:
    """The same rows through the ORM, for databases without COPY (SQLite in development)."""
    user = _user(ctx.actor)
    template = _description_template(ctx)
    bills = [
        Bill(
            number=number,
            payer_name=item.payer.name,
            payer_phone=item.payer.phone,
            payer_id_number=item.payer.id_number,
            payer_kra_pin=item.payer.kra_pin,
            payer_key=payer_key_for(
                Payer(item.payer.name, item.payer.phone, item.payer.id_number, item.payer.kra_pin)
            ),
            department=ctx.department,
            ward_id=item.ward_id,
            description=template.format(parcel=item.parcel_number)[:200],
            due_on=ctx.rating_year.due_on,
            total=item.amount,
            source_type=RATES_SOURCE_TYPE,
            source_ref=rates_source_ref(
                parcel_id=item.parcel_id, financial_year=ctx.financial_year
            ),
            created_by=user,
        )
        for number, item in zip(bill_numbers(len(new)), new, strict=True)
    ]
    Bill.objects.bulk_create(bills, batch_size=500)
    BillLine.objects.bulk_create(
        [
            BillLine(
                bill=bill,
                stream=ctx.stream,
                description=ctx.stream.name[:200],
                quantity=Decimal(1),
                unit_price=item.amount,
                amount=item.amount,
            )
            for bill, item in zip(bills, new, strict=True)
        ],
        batch_size=500,
    )
    ParcelCharge.objects.bulk_create(
        [
            ParcelCharge(
                parcel_id=item.parcel_id,
                kind=ChargeKind.RATES,
                financial_year=ctx.financial_year,
                period=financial_year_start(ctx.financial_year),
                bill=bill,
                amount=item.amount,
                site_value=item.site_value,
                run=run,
            )
            for bill, item in zip(bills, new, strict=True)
        ],
        batch_size=500,
    )


def _post_chunk(ctx: BillingContext, run: BillingRun, new: list[_NewBill], last_id: int) -> None:
    by_ward: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for item in new:
        by_ward[item.ward_id] += item.amount
    lines = []
    for ward_id, amount in sorted(by_ward.items()):
        lines.append(ledger.Line(RECEIVABLES, debit=amount, ward_id=ward_id))
        lines.append(ledger.Line(ctx.stream.account.code, credit=amount, ward_id=ward_id))
    first_id = new[0].parcel_id
    ledger.post_entry(
        lines=lines,
        memo=f"Land rates {format_financial_year(ctx.financial_year)}: {len(new)} bills, "
        f"parcels {first_id}-{last_id}",
        source_type="land.rates_run",
        source_ref=f"{run.public_id}:{first_id}-{last_id}",
        actor=ctx.actor,
    )
    record_event(
        actor=ctx.actor,
        action="land.rates_billed",
        target=run,
        data={
            "year": ctx.financial_year,
            "bills": len(new),
            "amount": sum((item.amount for item in new), ZERO),
            "parcels": [first_id, last_id],
        },
    )


def _bill_chunk(ctx: BillingContext, run: BillingRun, size: int) -> tuple[int, int] | None:
    """Bill one chunk in one transaction; None when the roll is done. Returns (parcels
    looked at, bills created). A bill-number collision rolls the chunk back; it is drawn
    again."""
    for attempt in range(_MAX_ATTEMPTS):
        try:
            with transaction.atomic():
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute(
                            "SELECT pg_advisory_xact_lock(%s, %s)",
                            [_LOCK_NAMESPACE, ctx.financial_year],
                        )
                        # A chunk lost to a crash in the moment after its commit is lost
                        # with its progress record, so the resumed run redoes it: no need
                        # to wait for the disk at each commit (module docstring).
                        cursor.execute("SET LOCAL synchronous_commit TO OFF")
                locked = BillingRun.objects.select_for_update().get(pk=run.pk)
                new, last_id, looked_at = _price_chunk(ctx, locked.last_parcel_id, size)
                if last_id == locked.last_parcel_id:
                    return None
                if new:
                    if connection.vendor == "postgresql":
                        _write_postgresql(ctx, locked, new)
                    else:
                        _write_orm(ctx, locked, new)
                    _post_chunk(ctx, locked, new, last_id)
                amount = sum((item.amount for item in new), ZERO)
                BillingRun.objects.filter(pk=run.pk).update(
                    last_parcel_id=last_id,
                    bills_created=locked.bills_created + len(new),
                    amount_billed=locked.amount_billed + amount,
                )
                run.last_parcel_id = last_id
                return looked_at, len(new)
        except IntegrityError:
            if attempt == _MAX_ATTEMPTS - 1:
                raise
    return None


def open_billing_run(
    *, financial_year: int, actor: Any | None, job: Job | None = None
) -> BillingRun:
    """The year's unfinished run, to resume, or a new run; refused without terms, rates,
    an approved roll or the land-rates stream."""
    ctx = billing_context(financial_year=financial_year, actor=actor)
    with transaction.atomic():
        run = (
            BillingRun.objects.select_for_update()
            .filter(financial_year=financial_year, roll=ctx.roll)
            .exclude(state=RunState.FINISHED)
            .order_by("-started_at")
            .first()
        )
        resumed = run is not None
        if run is None:
            run = BillingRun.objects.create(
                financial_year=financial_year, roll=ctx.roll, started_by=_user(actor), job=job
            )
        else:
            run.state = RunState.RUNNING
            run.error = ""
            if job is not None:
                run.job = job
            run.save(update_fields=["state", "error", "job"])
        record_event(
            actor=actor,
            action="land.billing_run_resumed" if resumed else "land.billing_run_started",
            target=run,
            data={"year": financial_year, "roll": ctx.roll.name, "from": run.last_parcel_id},
        )
    return run


def bill_rates(
    *,
    financial_year: int,
    actor: Any | None,
    job: Job | None = None,
    chunk_size: int = DEFAULT_CHUNK,
    on_progress: ProgressCallback | None = None,
) -> BillingRun:
    """Raise the year's rates bill for every rateable parcel on the roll in force.

    Idempotent and resumable (see the module's docstring). `on_progress(done, total)` is
    called after each chunk is committed; the job, if any, advances with it.
    """
    ctx = billing_context(financial_year=financial_year, actor=actor)
    run = open_billing_run(financial_year=financial_year, actor=actor, job=job)
    total = _eligible(ctx.roll).count()
    done = _eligible(ctx.roll).filter(parcel_id__lte=run.last_parcel_id).count()
    BillingRun.objects.filter(pk=run.pk).update(total_parcels=total)
    if job is not None:
        jobs.start_job(job=job, total=total)
        jobs.advance_job(job=job, by=done)
    if on_progress:
        on_progress(done, total)
    try:
        while (step := _bill_chunk(ctx, run, chunk_size)) is not None:
            looked_at, _created = step
            done = min(total, done + looked_at)
            if job is not None:
                jobs.advance_job(job=job, by=looked_at)
            if on_progress:
                on_progress(done, total)
    except Exception as exc:
        BillingRun.objects.filter(pk=run.pk).update(state=RunState.FAILED, error=str(exc)[:4000])
        if job is not None:
            jobs.fail_job(job=job, error=str(exc))
        raise
    with transaction.atomic():
        BillingRun.objects.filter(pk=run.pk).update(
            state=RunState.FINISHED, finished_at=timezone.now()
        )
        run.refresh_from_db()
        record_event(
            actor=actor,
            action="land.billing_run_finished",
            target=run,
            data={
                "year": financial_year,
                "bills": run.bills_created,
                "amount": run.amount_billed,
            },
        )
    if connection.vendor == "postgresql":
        # The table grew by a year's bills in minutes, faster than autovacuum notices:
        # fresh statistics keep the statement's lookups on their indexes.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE land_parcelcharge")
    if job is not None:
        jobs.finish_job(job=job)
    return run


def last_billed_parcel(*, financial_year: int) -> int:
    """The highest parcel id billed for the year (0 if none): a run's resume point."""
    return (
        ParcelCharge.objects.filter(
            kind=ChargeKind.RATES, period=financial_year_start(financial_year)
        ).aggregate(last=Max("parcel_id"))["last"]
        or 0
    )


def rates_due_on(*, financial_year: int) -> date | None:
    """When the year's rates fall due, if its terms are set."""
    rating_year = RatingYear.objects.filter(financial_year=financial_year).first()
    return rating_year.due_on if rating_year else None
