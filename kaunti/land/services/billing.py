"""The annual rates billing: one bill per rateable parcel on the roll in force, per year.

A run works through the roll in parcel-id order, in chunks (`billing_chunks`, and
`billing_sql` on PostgreSQL). Each chunk is one transaction: its bills (raised by
payments, with their lines and ONE balanced journal entry for the chunk: receivables
debited, land-rates revenue credited, per ward), its parcel charges, one audit event
naming the count and the parcel range, and the run's counts. So a run stopped at
any point (an error, `kill -9`) leaves whole chunks only, and running the year again
picks up where it stopped. Nothing is billed twice: parcels that already have the year's
charge are skipped, and `ParcelCharge` (parcel, kind, period) and payments'
(source_type, source_ref) are unique in the database. When the chunks are done, payers
who hold credit (an overpayment of an earlier bill) have it used on their new bills, as a
bill raised alone would.

On PostgreSQL, outside a transaction, chunks run on `workers` threads at once, each with
its own connection (the chunks are independent; the unique keys keep concurrent chunks
safe), and a run holds an advisory lock on its year so two runs cannot race. The run's
resume point (`last_parcel_id`) is then the last parcel below which every chunk has
committed: a chunk committed above it is looked at again on resuming, and skipped.

Rates are raised under the National Rating Act 2024 (s. 5: the rate as a percentage of
the value on the roll; the county's rating law sets the rates and the minimum).
"""

import contextlib
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import F, Max, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from kaunti.core.models import Department, Job
from kaunti.core.services import jobs
from kaunti.core.services.audit import record_event
from kaunti.land.models import (
    BillingRun,
    ChargeKind,
    ParcelCharge,
    RatingRule,
    RatingYear,
    RollEntry,
    RollStatus,
    RunState,
    ValuationRoll,
)
from kaunti.land.services import acting_user
from kaunti.land.services.billing_chunks import (
    BillingContext,
    ChunkResult,
    PayerOfParcel,
    payers_for_parcels,
    rates_source_ref,
)
from kaunti.land.services.billing_workers import Chunks, run_chunks
from kaunti.land.services.rating import financial_year_start, format_financial_year
from kaunti.payments.models import Bill, RevenueStream
from kaunti.payments.services.bills import apply_held_credits

__all__ = [
    "DEFAULT_CHUNK",
    "DEFAULT_WORKERS",
    "LANDS_DEPARTMENT",
    "RATES_PENALTY_STREAM",
    "RATES_STREAM",
    "BillingContext",
    "PayerOfParcel",
    "bill_rates",
    "billing_context",
    "last_billed_parcel",
    "open_billing_run",
    "payers_for_parcels",
    "rates_due_on",
    "rates_source_ref",
    "use_held_credits",
]

RATES_STREAM = "land-rates"
# Penalties on unpaid rates are revenue of their own (reported apart from the rates).
RATES_PENALTY_STREAM = "land-rates-penalty"
LANDS_DEPARTMENT = "lands"
DEFAULT_CHUNK = 10000
DEFAULT_WORKERS = 2  # the chunks' work is in the database: one connection per core
_LOCK_NAMESPACE = 0x4C414E44  # "LAND": with the year, the key of the run's advisory lock

ProgressCallback = Callable[[int, int], None]


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


@contextlib.contextmanager
def _year_lock(financial_year: int) -> Iterator[None]:
    """On PostgreSQL, one run of a year at a time: a second waits for the first to end
    (then finds nothing left to bill). A session lock, released if the process dies."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, financial_year])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, financial_year])


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
                financial_year=financial_year, roll=ctx.roll, started_by=acting_user(actor), job=job
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
    workers: int = DEFAULT_WORKERS,
) -> BillingRun:
    """Raise the year's rates bill for every rateable parcel on the roll in force.

    Idempotent and resumable (see the module's docstring). `on_progress(done, total)` is
    called after each chunk is committed; the job, if any, advances with it. Chunks run on
    `workers` connections at once on PostgreSQL when the caller is not in a transaction
    (other connections could not see its rows); else one after the other.
    """
    ctx = billing_context(financial_year=financial_year, actor=actor)
    if connection.in_atomic_block:
        workers = 1
    with _year_lock(financial_year):
        run = open_billing_run(financial_year=financial_year, actor=actor, job=job)
        total = _eligible(ctx.roll).count()
        done = _eligible(ctx.roll).filter(parcel_id__lte=run.last_parcel_id).count()
        BillingRun.objects.filter(pk=run.pk).update(total_parcels=total)
        if job is not None:
            jobs.start_job(job=job, total=total)
            jobs.advance_job(job=job, by=done)
        if on_progress:
            on_progress(done, total)

        def report(result: ChunkResult) -> None:
            nonlocal done
            done = min(total, done + result.looked_at)
            if job is not None:
                jobs.advance_job(job=job, by=result.looked_at)
            if on_progress:
                on_progress(done, total)

        chunks = Chunks(ctx, after_id=run.last_parcel_id, size=chunk_size)
        try:
            run_chunks(ctx, run, chunks, size=chunk_size, workers=workers, report=report)
            credit_used = use_held_credits(
                Bill.objects.filter(land_charge__run=run, land_charge__kind=ChargeKind.RATES),
                actor=actor,
            )
        except Exception as exc:
            BillingRun.objects.filter(pk=run.pk).update(
                state=RunState.FAILED, error=str(exc)[:4000]
            )
            if job is not None:
                jobs.fail_job(job=job, error=str(exc))
            raise
        with transaction.atomic():
            BillingRun.objects.filter(pk=run.pk).update(
                state=RunState.FINISHED,
                finished_at=timezone.now(),
                last_parcel_id=Greatest(F("last_parcel_id"), Value(chunks.resume_point)),
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
                    "credit_used": credit_used,
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


def use_held_credits(bills: QuerySet[Bill], *, actor: Any | None) -> Decimal:
    """Use what payers hold in credit (overpayments of earlier bills) on `bills`, raised in
    bulk by a run through their parcel charges, in parcel order, as `create_bill` does for a
    bill raised alone (payments' `apply_held_credits`); the amount used."""
    return apply_held_credits(
        bills.order_by("land_charge__parcel_id"), actor=actor, also_analyze=(ParcelCharge,)
    )


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
