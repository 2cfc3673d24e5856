from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tierline.core"
    label = "core"
    verbose_name = "Core"

    def ready(self) -> None:
        from tierline.core import jobs  # noqa: F401  (registers core's periodic jobs)
