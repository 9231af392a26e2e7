"""Documents kept on a parcel's file, each maybe tied to the transfer it evidences."""

import uuid

from django.conf import settings
from django.db import models

from kaunti.land.models.owners import Transfer
from kaunti.land.models.parcels import Parcel


class ParcelDocument(models.Model):
    """A document attached to a parcel or to one of its transfers (title, transfer form...)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    parcel = models.ForeignKey(Parcel, on_delete=models.PROTECT, related_name="documents")
    transfer = models.ForeignKey(
        Transfer, on_delete=models.PROTECT, null=True, blank=True, related_name="documents"
    )
    title = models.CharField(max_length=150)
    file = models.FileField(upload_to="land/documents/%Y/%m/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]

    def __str__(self) -> str:
        return self.title
