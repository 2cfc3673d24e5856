from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "tierline.people"
    label = "people"
    verbose_name = "People"
