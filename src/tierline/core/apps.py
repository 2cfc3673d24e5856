from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tierline.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from tierline.core import (
            health,
            jobs,  # noqa: F401  (registers core's periodic jobs)
        )

        health.register_core_checks()
