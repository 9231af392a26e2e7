"""Kaunti: the platform a Kenyan county's ICT Directorate runs."""

from kaunti.celery import app as celery_app

__all__ = ["celery_app"]
