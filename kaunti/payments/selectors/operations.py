"""What /metrics reports of payments' work: M-Pesa callbacks stored and not yet recorded,
those left for an officer, and STK prompts still unanswered. Each is a count and a
minimum over rows found by a status index (`callback_status_idx`, `stk_status_idx`)."""

from django.db.models import Count, Min
from django.utils import timezone

from kaunti.core.metrics.figures import Figure, age_seconds
from kaunti.payments.models.mpesa import CallbackStatus, InboundCallback, StkRequest, StkStatus

# Stored, and still to be recorded: as received (a drain takes them), or an STK callback
# that came before its request was saved (`waiting`).
AWAITING = (CallbackStatus.RECEIVED, CallbackStatus.WAITING)
# Left for an officer: unreadable, or not matching what was asked.
NEEDING_REVIEW = (CallbackStatus.REVIEW, CallbackStatus.MALFORMED)
UNANSWERED = (StkStatus.REQUESTED, StkStatus.PENDING)
# Every kind is reported, with 0 when none waits, so a panel's line never disappears.
CALLBACK_KINDS = ("mpesa_c2b_confirmation", "mpesa_stk")


def callback_figures() -> list[Figure]:
    now = timezone.now()
    awaiting = {
        row["kind"]: row
        for row in InboundCallback.objects.filter(status__in=AWAITING)
        .values("kind")
        .annotate(count=Count("pk"), oldest=Min("received_at"))
        .order_by()
    }
    kinds = sorted(set(CALLBACK_KINDS) | set(awaiting))
    review = InboundCallback.objects.filter(status__in=NEEDING_REVIEW).count()
    unanswered = StkRequest.objects.filter(status__in=UNANSWERED).aggregate(
        count=Count("pk"), oldest=Min("created_at")
    )
    return [
        Figure(
            "kaunti_payments_callbacks_awaiting",
            "M-Pesa callbacks stored but not yet recorded as payments, by kind.",
            [({"kind": kind}, awaiting.get(kind, {}).get("count", 0)) for kind in kinds],
            labels=("kind",),
        ),
        Figure(
            "kaunti_payments_callbacks_oldest_awaiting_age_seconds",
            "How long the oldest stored, unrecorded M-Pesa callback has waited, by kind.",
            [
                ({"kind": kind}, age_seconds(awaiting.get(kind, {}).get("oldest"), now))
                for kind in kinds
            ],
            labels=("kind",),
        ),
        Figure.single(
            "kaunti_payments_callbacks_needing_review",
            "M-Pesa callbacks left for an officer (unreadable, or not matching the prompt).",
            review,
        ),
        Figure.single(
            "kaunti_payments_stk_unanswered",
            "M-Pesa prompts sent (or being sent) that have no answer yet.",
            unanswered["count"],
        ),
        Figure.single(
            "kaunti_payments_stk_oldest_unanswered_age_seconds",
            "How long the oldest unanswered M-Pesa prompt has waited.",
            age_seconds(unanswered["oldest"], now),
        ),
    ]
