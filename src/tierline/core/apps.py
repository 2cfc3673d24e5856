from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tierline.core"
    label = "core"
    verbose_name = "Core"
