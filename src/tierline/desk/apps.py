from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "tierline.desk"
    label = "desk"
    verbose_name = "Desk"

    def ready(self) -> None:
        from tierline.desk.panels import declare_slots

        declare_slots()
