from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "tierline.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        from tierline.mail.panels import register_panels

        register_panels()
