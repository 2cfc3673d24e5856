from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "tierline.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        # The ticket-page and sidebar panels register once, at start.
        from tierline.knowledge import panels  # noqa: F401
