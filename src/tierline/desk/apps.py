from django.apps import AppConfig


class DeskConfig(AppConfig):
    name = "tierline.desk"
    label = "desk"
    verbose_name = "Desk"
