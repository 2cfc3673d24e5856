from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "tierline.desk"
    label = "desk"
    verbose_name = "Desk"

    def ready(self) -> None:
        from tierline.desk.panels import declare_slots, register_desk_panels

        declare_slots()
        register_desk_panels()
        # Registers the desk's periodic jobs, and imports what they run now, at start: a
        # scheduler thread must not be the first to import a module (see core.scheduler).
        from tierline.desk import jobs  # noqa: F401
