"""Core's writes, one module each: the audit chain (`audit`), messages queued for SMS and
email (`notifications`) and their delivery (`outbox`), verifiable documents (`documents`)
and background jobs with progress (`jobs`). Apps call these from their own services."""
