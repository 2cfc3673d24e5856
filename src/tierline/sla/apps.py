from django.apps import AppConfig


class SlaConfig(AppConfig):
    name = "tierline.sla"
    label = "sla"
    verbose_name = "Service targets"

    def ready(self) -> None:
        # Imported here, at start: a scheduler thread must not be the first to import a module
        # (see core.scheduler), and the handlers, panels and job register once.
        from tierline.sla import columns, jobs, panels, services  # noqa: F401
        from tierline.sla.api import fields  # noqa: F401
        from tierline.sla.subscriptions import subscribe_all

        subscribe_all()
        from tierline.sla import health

        health.register_checks()
