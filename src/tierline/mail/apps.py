from django.apps import AppConfig


class MailConfig(AppConfig):
    name = "tierline.mail"
    label = "mail"
    verbose_name = "Mail"

    def ready(self) -> None:
        from tierline.mail.panels import register_panels

        register_panels()
        from tierline.mail.outbound_subscriptions import subscribe_all

        subscribe_all()
        from tierline.mail import notify

        notify.register()
        from tierline.mail import health

        health.register_checks()
        # Registers the spool's periodic job, and imports what it runs now, at start.
        from tierline.mail import jobs  # noqa: F401
