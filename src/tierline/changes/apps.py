from django.apps import AppConfig


class ChangesConfig(AppConfig):
    name = "tierline.changes"
    label = "changes"
    verbose_name = "Changes"

    def ready(self) -> None:
        # The panels (a sidebar link, the ticket page's linked changes) register once, at start.
        from tierline.changes import panels  # noqa: F401
