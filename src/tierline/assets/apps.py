from django.apps import AppConfig


class AssetsConfig(AppConfig):
    name = "tierline.assets"
    label = "assets"
    verbose_name = "Assets"

    def ready(self) -> None:
        # The panels and the health job register once, at start (core.panels, core.scheduler).
        from tierline.assets import jobs, panels  # noqa: F401
        from tierline.assets.api import extras

        extras.register()
        from tierline.assets.queries import asset_labels
        from tierline.core.labels import register_labels

        register_labels("assets.asset", asset_labels)
        # The estate report's software counts lose a deleted asset's packages (however deleted).
        from django.db.models.signals import pre_delete

        from tierline.assets import software_counts
        from tierline.assets.models import Asset

        pre_delete.connect(
            software_counts.asset_deleted, sender=Asset, dispatch_uid="assets.software_counts"
        )
