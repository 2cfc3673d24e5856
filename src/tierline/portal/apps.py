from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "tierline.portal"
    label = "portal"
    verbose_name = "Portal"
