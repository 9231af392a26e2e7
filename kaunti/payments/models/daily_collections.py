"""The collections reports read: per day, stream, ward and channel, rolled up by the
database per day and stream, and per month and stream."""

from django.db import models

from kaunti.payments.models.bills import RevenueStream
from kaunti.payments.models.receipts import Channel


class DailyCollection(models.Model):
    """Collections per day, stream, ward and channel, kept as payments post (for fast reports)."""

    day = models.DateField()
    stream = models.ForeignKey(RevenueStream, on_delete=models.PROTECT, related_name="+")
    ward_code = models.CharField(max_length=10, blank=True)  # "" when the bill has no ward
    channel = models.CharField(max_length=20, choices=Channel.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "stream", "ward_code", "channel"], name="daily_collection_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["day"], name="daily_collection_day_idx"),
            # A report by day for one ward or one channel reads only its own rows, from
            # the index alone (each page of the table holds every ward and channel).
            models.Index(
                fields=["ward_code", "day"],
                include=["stream", "channel", "amount", "count"],
                name="daily_collection_ward_idx",
            ),
            models.Index(
                fields=["channel", "day"],
                include=["stream", "ward_code", "amount", "count"],
                name="daily_collection_channel_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.stream_id} {self.channel}: {self.amount}"


class MonthlyCollection(models.Model):
    """Collections per month, stream, ward and channel, for reports over many months.

    Kept by the database, not by Python: a trigger on `DailyCollection` (migration
    payments 0002) adds every change of a daily row to its month's row in the same
    transaction, so the two always agree. A year's report then reads about 22,500 rows
    instead of 685,000 (bench/reports/README.md). `month` is the first day of the month.
    """

    month = models.DateField()
    stream = models.ForeignKey(RevenueStream, on_delete=models.PROTECT, related_name="+")
    ward_code = models.CharField(max_length=10, blank=True)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "stream", "ward_code", "channel"],
                name="monthly_collection_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.stream_id} {self.channel}: {self.amount}"


class DailyStreamCollection(models.Model):
    """Collections per day and stream (every ward and channel), for reports by day.

    Kept by the database like `MonthlyCollection`: a trigger on `DailyCollection`
    (migration payments 0004) adds every change of a daily row to its day and stream's row
    in the same transaction. A year's report by day then reads about 5,500 rows instead of
    685,000 (bench/reports/README.md).
    """

    day = models.DateField()
    stream = models.ForeignKey(RevenueStream, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "stream"], name="daily_stream_collection_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.stream_id}: {self.amount}"
