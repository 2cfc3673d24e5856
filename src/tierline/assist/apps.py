from django.apps import AppConfig


class AssistConfig(AppConfig):
    name = "tierline.assist"
    label = "assist"
    verbose_name = "Tier-1 assistant"

    def ready(self) -> None:
        # Imported at start: a scheduler thread must not be the first to import a module (see
        # core.scheduler); the handler, the panel and the job register once.
        from tierline.assist import jobs, panels, services  # noqa: F401
        from tierline.assist.subscriptions import subscribe_all

        subscribe_all()
