from django.apps import AppConfig


class KnowledgeConfig(AppConfig):
    name = "tierline.knowledge"
    label = "knowledge"
    verbose_name = "Knowledge base"

    def ready(self) -> None:
        # The ticket-page and sidebar panels register once, at start; the article page's slot
        # is declared for other apps' panels.
        from tierline.knowledge import panels

        panels.declare_slots()

        # The search index follows the desk's events and answers the lists' text filter
        # (core.search); registered once, at start.
        from tierline.knowledge.search import subscriptions

        subscriptions.subscribe_all()

        # Other apps read the articles' text through core (the assistant's suggestions).
        from tierline.core.articles import register_article_source
        from tierline.knowledge.queries import article_texts

        register_article_source(article_texts)
