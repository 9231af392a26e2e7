"""API routes of this app, mounted under /api/v1/ in the 'api' namespace."""

urlpatterns: list = []
