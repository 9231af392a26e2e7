"""The counter: a cashier's till session."""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kaunti.core.models import Department


class TillStatus(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class TillSession(models.Model):
    """A cashier's shift at the counter: opened with a float, closed with a count."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    cashier = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="till_sessions"
    )
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="+")
    opening_float = models.DecimalField(max_digits=14, decimal_places=2)
    opened_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=6, choices=TillStatus.choices, default=TillStatus.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    counted_cash = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    expected_cash = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    variance = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["-opened_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cashier"], condition=Q(status="open"), name="till_one_open_per_cashier"
            ),
        ]

    def __str__(self) -> str:
        return f"till of {self.cashier} opened {self.opened_at:%Y-%m-%d %H:%M}"
