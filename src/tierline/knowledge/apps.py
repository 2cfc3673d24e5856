from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "tierline.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge"

    def ready(self) -> None:
        # The search index follows the desk's events and answers the lists' text filter
        # (core.search); registered once, at start.
        from tierline.knowledge.search import subscriptions

        subscriptions.subscribe_all()
