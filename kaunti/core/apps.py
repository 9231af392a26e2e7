from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Who may see the scheduled jobs and run one by hand (granted in accounts' ACTION_ROLES).
RUN_SCHEDULED_JOBS = "core.run_scheduled_jobs"


class CoreConfig(AppConfig):
    name = "kaunti.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        # Services queue core's tasks by name (`jobs.enqueue`): every process knows them.
        from kaunti.core import signals, tasks  # noqa: F401
        from kaunti.core.menu import (
            PublicLink,
            StaffLink,
            register_public_link,
            register_staff_link,
        )
        from kaunti.core.metrics import celery_signals
        from kaunti.core.metrics.figures import register_figures
        from kaunti.core.selectors import audit_figures, outbox_figures

        # Task outcomes and the request id carried into tasks, in web and worker alike.
        celery_signals.connect()
        register_figures("core", outbox_figures)
        register_figures("audit", audit_figures)
        # Every process that runs tasks records the runs of scheduled jobs (ADR 18).
        signals.connect()
        register_staff_link(
            StaffLink(_("Scheduled jobs"), "core:scheduled_jobs", RUN_SCHEDULED_JOBS, 92)
        )
        register_public_link(
            PublicLink(
                _("Check a receipt, permit or licence"),
                "verify_start",
                _("Whether a county document is genuine, from the code printed on it."),
                90,
            )
        )
