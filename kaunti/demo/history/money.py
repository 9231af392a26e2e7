"""Bills and payments of the demo history, through the money path every channel takes:
`create_bill`, then M-Pesa prompts and paybill payments through `record_payments` (in
the batches the paybill worker takes them in, ADR 7), and counter payments through the
cashiers' tills (`open_till`, `receive_counter_payment`, `close_till`, `cancel_receipt`).
"""

import random
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import partial
from typing import Any

from django.conf import settings
from django.utils import timezone

from kaunti.accounts.models import Role, User
from kaunti.core.models import Department, Ward
from kaunti.demo.history.people import (
    CASHIERS,
    CO_OPERATIVES,
    Citizens,
    Staff,
    business_name,
    person_name,
    phone_number,
)
from kaunti.demo.history.timeline import Timeline
from kaunti.payments.models import Bill, BillStatus, Channel, Receipt, RevenueStream, TillSession
from kaunti.payments.mpesa.inbound import C2B_PROVIDER, STK_PROVIDER
from kaunti.payments.selectors.tills import get_till_totals
from kaunti.payments.services.bills import LineInput, Payer, create_bill
from kaunti.payments.services.counter import (
    close_till,
    open_till,
    receive_counter_payment,
)
from kaunti.payments.services.receipt_cancellation import cancel_receipt
from kaunti.payments.services.recording import IncomingPayment, record_payments

BIG_MARKETS = 5  # the first five below remit their fees every week

# Towns with a market, and the ward each is in (shared/reference/nyandarua.md).
MARKETS = (
    ("Ol Kalou", "0453"),
    ("Engineer", "0441"),
    ("Njabini", "0445"),
    ("Mairo-Inya", "0463"),
    ("Wanjohi", "0449"),
    ("Geta", "0451"),
    ("Mirangine", "0455"),
    ("Kaimbaga", "0456"),
    ("Shamata", "0465"),
)
STK, PAYBILL, CASH, BANK, CHEQUE = (
    Channel.MPESA_STK,
    Channel.MPESA_PAYBILL,
    Channel.CASH,
    Channel.BANK,
    Channel.CHEQUE,
)
COUNTER_METHODS: dict[str, str] = {CASH: "cash", BANK: "bank", CHEQUE: "cheque"}
BANKS = ("kcb", "equity", "coop", "family", "national")
OPENING_FLOAT = Decimal(2000)


@dataclass(frozen=True)
class Kind:
    """A kind of bill the county raises every day, and how it is usually paid."""

    stream: str
    weight: int
    quantity: tuple[int, int]
    price: tuple[int, int] | None  # for streams priced per bill (rent); else the price list's
    payer: str  # "resident", "business" or "co-operative"
    channels: tuple[tuple[str, int], ...]
    describe: Callable[[str, int], str]  # (town, quantity) -> the bill's description


KINDS = (
    Kind("market-fee", 14, (20, 30), None, "resident", ((STK, 5), (PAYBILL, 3), (CASH, 2)),
         lambda town, n: f"{town} market, {n} days"),
    Kind("hawker-permit", 8, (1, 30), None, "resident", ((STK, 6), (CASH, 4)),
         lambda town, n: f"Hawking in {town}, {n} days"),
    Kind("produce-cess-potatoes", 9, (100, 1500), None, "business",
         ((STK, 3), (PAYBILL, 4), (CASH, 3)),
         lambda town, n: f"Potatoes leaving {town}, {n} bags"),
    Kind("machinery-hire", 3, (2, 16), None, "resident", ((PAYBILL, 6), (CASH, 4)),
         lambda town, n: f"Tractor hire near {town}, {n} hours"),
    Kind("weights-measures", 3, (1, 8), None, "business", ((STK, 5), (CASH, 5)),
         lambda town, n: f"Verification of {n} weighing instruments, {town}"),
    Kind("house-rent", 10, (1, 1), (2500, 9000), "resident", ((PAYBILL, 6), (STK, 2), (CASH, 2)),
         lambda town, n: f"County house rent, {town} estate"),
    Kind("plot-rent", 4, (1, 1), (1200, 9600), "resident", ((PAYBILL, 4), (CASH, 4), (BANK, 2)),
         lambda town, n: f"Plot rent, {town}"),
    Kind("livestock-movement", 6, (1, 40), None, "resident", ((STK, 6), (CASH, 4)),
         lambda town, n: f"Moving {n} animals from {town}"),
)  # fmt: skip


# What is collected in bulk and remitted on a schedule: each market's week of fees
# (the collectors' POS takings, banked on Monday), each co-operative's month of cess.
REMITTANCES = (
    Kind("market-fee", 0, (800, 3000), None, "collector", ((CASH, 5), (BANK, 5)),
         lambda town, n: f"{town} market fees collected last week, {n} trader-days"),
    Kind("produce-cess-potatoes", 0, (3000, 25000), None, "co-operative",
         ((PAYBILL, 3), (BANK, 5), (CHEQUE, 2)),
         lambda town, n: f"Potato cess for last month, {n:,} bags"),
    Kind("produce-cess-milk", 0, (800, 5000), None, "co-operative",
         ((PAYBILL, 3), (BANK, 5), (CHEQUE, 2)),
         lambda town, n: f"Milk cess for last month, {n * 100:,} litres"),
)  # fmt: skip


def _pick(rng: random.Random, weighted: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([value for value, _w in weighted], [w for _v, w in weighted])[0]


def mpesa_code(rng: random.Random, day: date) -> str:
    """An M-Pesa transaction code of the style of its year (2026: U...)."""
    first = string.ascii_uppercase[(day.year - 2006) % 26]
    return first + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(9))


def local(day: date, hour: int, minute: int = 0) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


@dataclass
class Tally:
    bills: int = 0
    payments: int = 0
    cancelled_receipts: int = 0
    tills: int = 0


@dataclass
class Money:
    """Raises the day's bills and takes their payments, on every channel."""

    rng: random.Random
    timeline: Timeline
    citizens: Citizens
    staff: Staff
    # How many markets and co-operatives remit in bulk (fewer in a smaller history).
    remitters: int = len(MARKETS)
    tally: Tally = field(default_factory=Tally)
    _pending: list[IncomingPayment] = field(default_factory=list)
    _flush_at: datetime | None = None
    _tills: dict[tuple[int, date], TillSession] = field(default_factory=dict)
    _cashiers: list[User] = field(default_factory=list)
    _departments: dict[str, Department] = field(default_factory=dict)
    _wards: dict[str, Ward] = field(default_factory=dict)
    # By bill number: called when a payment of the bill is recorded, until it answers True
    # (an application, once its bill is paid in full and it is in review).
    on_paid: dict[str, Callable[[], bool]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        revenue = Department.objects.get(code="revenue")
        self._cashiers = [self.staff.new(Role.CASHIER, revenue, name) for name in CASHIERS]
        self._departments = {d.code: d for d in Department.objects.all()}
        self._wards = {w.code: w for w in Ward.objects.all()}

    # --- The day's bills ----------------------------------------------------------------

    def plan_day(self, day: date, bills: int) -> None:
        """Schedule the day's bills, each at its moment; counter ones in office hours."""
        if day.weekday() == 0:
            for town, ward in MARKETS[: min(self.remitters, BIG_MARKETS)]:
                self._remit(day, REMITTANCES[0], town, ward, "")
        # The co-operatives pay on the first working day from the 5th.
        if day.weekday() < 5 and (day.day == 5 or (day.day in (6, 7) and day.weekday() == 0)):
            for name in CO_OPERATIVES[: self.remitters]:
                kind = REMITTANCES[2] if "Dairy" in name or "Milk" in name else REMITTANCES[1]
                town, ward = self.rng.choice(MARKETS)
                self._remit(day, kind, town, ward, name)
        for _n in range(bills):
            kind = self.rng.choices(KINDS, [k.weight for k in KINDS])[0]
            channel = _pick(self.rng, kind.channels)
            if channel in COUNTER_METHODS:
                if day.weekday() == 6:  # the counters are shut on Sunday
                    channel = STK
                else:
                    minute = self.rng.randrange(8 * 60 + 5, (13 if day.weekday() == 5 else 16) * 60)
                    self.timeline.at(
                        local(day, minute // 60, minute % 60),
                        partial(self._bill_at_counter, kind, channel),
                    )
                    continue
            minute = self.rng.randrange(6 * 60, 21 * 60 + 30)
            self.timeline.at(
                local(day, minute // 60, minute % 60),
                partial(self._bill_by_phone, kind, channel),
            )

    def _remit(self, day: date, kind: Kind, town: str, ward: str, payer: str) -> None:
        channel = _pick(self.rng, kind.channels)
        minute = self.rng.randrange(8 * 60 + 30, 15 * 60)
        at = local(day, minute // 60, minute % 60)
        payer_name = payer or f"{town} market revenue collectors"

        def remit() -> None:
            bill = self.raise_bill(kind, town=town, ward_code=ward, payer=Payer(name=payer_name))
            if channel in COUNTER_METHODS:
                receipt = self.take_at_counter(bill, channel, bill.total)
                if channel == CHEQUE and self.rng.random() < 0.15:
                    later = timezone.now() + timedelta(hours=self.rng.randint(1, 5))
                    self.timeline.at(later, lambda: self._cancel(receipt, bill, channel))
            else:
                self.pay_in_parts(bill, channel, timezone.now(), bill.total)

        self.timeline.at(at, remit)

    def _payer(self, kind: Kind, town: str) -> Payer:
        if kind.payer == "co-operative":
            return Payer(name=self.rng.choice(CO_OPERATIVES), phone=phone_number(self.rng))
        if kind.payer == "business" and self.rng.random() < 0.6:
            return Payer(name=business_name(self.rng, town), phone=phone_number(self.rng))
        if self.rng.random() < 0.7:
            user = self.citizens.any()
            return Payer(name=user.full_name, phone=user.phone or "", user=user)
        return Payer(name=person_name(self.rng), phone=phone_number(self.rng))

    def raise_bill(
        self, kind: Kind, *, town: str = "", ward_code: str = "", payer: Payer | None = None
    ) -> Bill:
        if not town:
            town, ward_code = self.rng.choice(MARKETS)
        quantity = self.rng.randint(*kind.quantity)
        price = (
            Decimal(self.rng.randrange(kind.price[0], kind.price[1] + 1, 100))
            if kind.price
            else None
        )
        today = timezone.localdate()
        stream = RevenueStream.objects.select_related("department").get(code=kind.stream)
        bill = create_bill(
            payer=payer or self._payer(kind, town),
            lines=[LineInput(kind.stream, quantity=Decimal(quantity), unit_price=price)],
            department=stream.department,
            ward=self._wards.get(ward_code),
            due_on=today + timedelta(days=14),
            description=kind.describe(town, quantity),
            actor=None,
        )
        self.tally.bills += 1
        return bill

    def _share(self, bill: Bill) -> Decimal:
        """Most pay in full; a few pay part now."""
        if bill.total >= 1000 and self.rng.random() < 0.06:
            return (bill.total * Decimal(self.rng.choice((25, 40, 50, 60))) / 100).quantize(
                Decimal(1)
            )
        return bill.total

    def _bill_by_phone(self, kind: Kind, channel: str) -> None:
        bill = self.raise_bill(kind)
        if self.rng.random() < 0.09:
            return  # raised, never paid: a receivable the dashboard does not count
        delay = (
            timedelta(minutes=self.rng.randint(1, 4))
            if channel == STK
            else timedelta(minutes=self.rng.randint(3, 60 * 24 * 4))
        )
        self.pay_in_parts(bill, channel, timezone.now() + delay, self._share(bill))

    def pay_in_parts(self, bill: Bill, channel: str, when: datetime, amount: Decimal) -> None:
        limit = Decimal(settings.MPESA_MAX_AMOUNT)
        while amount > limit:  # M-Pesa takes at most this much at once: paid in parts
            self.pay_by_mpesa(bill, channel, when, limit)
            amount -= limit
            when += timedelta(minutes=self.rng.randint(2, 10))
        self.pay_by_mpesa(bill, channel, when, amount)

    # --- M-Pesa --------------------------------------------------------------------------

    def pay_by_mpesa(self, bill: Bill, channel: str, when: datetime, amount: Decimal) -> None:
        self.timeline.at(when, lambda: self._mpesa_paid(bill, channel, amount))

    def _mpesa_paid(self, bill: Bill, channel: str, amount: Decimal) -> None:
        now = timezone.now()
        code = mpesa_code(self.rng, timezone.localdate())
        phone = bill.payer_phone or phone_number(self.rng)
        first, _space, last = bill.payer_name.partition(" ")
        if channel == STK:
            reference = (
                f"ws_CO_{timezone.localtime(now):%d%m%Y%H%M%S}{self.rng.randrange(10**6):06d}"
            )
            raw: dict[str, Any] = {
                "Body": {
                    "stkCallback": {
                        "CheckoutRequestID": reference,
                        "ResultCode": 0,
                        "ResultDesc": "The service request is processed successfully.",
                        "CallbackMetadata": {
                            "Item": [
                                {"Name": "Amount", "Value": str(amount)},
                                {"Name": "MpesaReceiptNumber", "Value": code},
                                {"Name": "PhoneNumber", "Value": phone},
                            ]
                        },
                    }
                }
            }
            provider = STK_PROVIDER
        else:
            reference, provider = code, C2B_PROVIDER
            raw = {
                "TransactionType": "Pay Bill",
                "TransID": code,
                "TransTime": f"{timezone.localtime(now):%Y%m%d%H%M%S}",
                "TransAmount": str(amount),
                "BusinessShortCode": settings.MPESA_SHORTCODE,
                "BillRefNumber": bill.number,
                "MSISDN": phone,
                "FirstName": first,
                "LastName": last,
            }
        self._pending.append(
            IncomingPayment(
                provider=provider,
                external_ref=reference,
                channel=channel,
                amount=amount,
                paid_at=now,
                bill_number=bill.number,
                payer_phone=phone,
                payer_name=bill.payer_name if channel == PAYBILL else "",
                mpesa_receipt=code,
                raw=raw,
            )
        )
        if self._flush_at is None or self._flush_at < now:
            # The worker takes what has come in meanwhile in one batch (fewer, larger batches
            # than a live worker's, to keep loading quick).
            self._flush_at = now + timedelta(minutes=90)
            self.timeline.at(self._flush_at, self.flush_mpesa)

    def flush_mpesa(self) -> None:
        pending, self._pending = self._pending, []
        if not pending:
            return
        record_payments(pending)
        self.tally.payments += len(pending)
        for item in pending:
            follow = self.on_paid.get(item.bill_number)
            if follow is not None and follow():
                del self.on_paid[item.bill_number]

    # --- The counter ---------------------------------------------------------------------

    def _till(self, day: date) -> tuple[User, TillSession]:
        cashier = self._cashiers[day.toordinal() % len(self._cashiers)]  # they take turns
        key = (cashier.pk, day)
        if key not in self._tills:
            till = open_till(
                cashier=cashier,
                department=self._departments["revenue"],
                opening_float=OPENING_FLOAT,
            )
            self._tills[key] = till
            self.tally.tills += 1
            closing = local(day, 13 if day.weekday() == 5 else 17, self.rng.randint(5, 40))
            self.timeline.at(closing, lambda: self._close(cashier, till))
        return cashier, self._tills[key]

    def _close(self, cashier: User, till: TillSession) -> None:
        expected = get_till_totals(till=till).expected_cash
        # Now and then a count comes up a little short (or over): the variance is posted.
        miss = (
            Decimal(self.rng.choice((-500, -200, -100, 50, 100))) if self.rng.random() < 0.04 else 0
        )
        close_till(till=till, counted_cash=max(expected + miss, Decimal(0)), actor=cashier)

    def _token(self) -> str:
        return "".join(self.rng.choice(string.ascii_letters + string.digits) for _ in range(24))

    def take_at_counter(self, bill: Bill, channel: str, amount: Decimal) -> Receipt:
        cashier, till = self._till(timezone.localdate())
        method = COUNTER_METHODS[channel]
        payment = receive_counter_payment(
            till=till,
            bill_number=bill.number,
            amount=amount,
            method=method,
            bank=self.rng.choice(BANKS) if method != "cash" else "",
            reference=str(self.rng.randrange(100_000, 99_999_999)) if method != "cash" else "",
            idempotency_token=self._token(),
            actor=cashier,
        )
        self.tally.payments += 1
        return Receipt.objects.get(payment=payment)

    def _bill_at_counter(self, kind: Kind, channel: str) -> None:
        bill = self.raise_bill(kind)
        receipt = self.take_at_counter(bill, channel, self._share(bill))
        if self.rng.random() < 0.03:
            # Receipted in error (the wrong amount keyed): the cashier asks, a supervisor
            # of the bill's department approves the cancellation, the payer pays again.
            later = timezone.now() + timedelta(minutes=self.rng.randint(10, 90))
            self.timeline.at(later, lambda: self._cancel(receipt, bill, channel))

    def _cancel(self, receipt: Receipt, bill: Bill, channel: str) -> None:
        till = receipt.payment.till_session
        if till is None:  # a counter receipt always has its till
            return
        cashier = till.cashier
        supervisor = self.staff.holding(Role.SUPERVISOR, bill.department)
        if supervisor.pk == cashier.pk:
            return
        cancel_receipt(
            receipt=receipt,
            reason="Cheque returned unpaid by the bank"
            if channel == CHEQUE
            else self.rng.choice(("Wrong amount keyed in", "Payer was receipted twice")),
            requested_by=cashier,
            approved_by=supervisor,
        )
        self.tally.cancelled_receipts += 1
        bill.refresh_from_db()
        now = timezone.localtime()
        if bill.status != BillStatus.PAID and now.hour < 15 and now.weekday() < 5:
            again = BANK if bill.total > 50_000 else CASH  # paid again, properly
            self.timeline.at(
                now + timedelta(minutes=30),
                lambda: self.take_at_counter(bill, again, bill.total - bill.paid),
            )

    def pay_on(self, bill: Bill, channel: str, day: date, amount: Decimal) -> None:
        """Pay `amount` on `day`: at the counter in its hours, or by M-Pesa at any hour."""
        if channel in COUNTER_METHODS:
            if day.weekday() == 6:
                day += timedelta(days=1)
            minute = self.rng.randrange(8 * 60 + 5, (13 if day.weekday() == 5 else 16) * 60)
            self.timeline.at(
                local(day, minute // 60, minute % 60),
                lambda: self.take_at_counter(bill, channel, amount),
            )
        else:
            minute = self.rng.randrange(6 * 60, 21 * 60 + 30)
            self.pay_in_parts(bill, channel, local(day, minute // 60, minute % 60), amount)
