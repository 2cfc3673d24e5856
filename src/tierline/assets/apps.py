from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "tierline.assets"
    label = "assets"
    verbose_name = "Assets"

    def ready(self) -> None:
        # The panels register once, at start (core.panels).
        from tierline.assets import panels  # noqa: F401
        from tierline.assets.api import extras

        extras.register()
