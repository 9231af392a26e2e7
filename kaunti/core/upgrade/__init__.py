"""`manage.py upgrade`: `checks` (what is looked at before anything changes, and the plan)
and `run` (the steps). ADR 22; docs/operations/upgrade.md."""
