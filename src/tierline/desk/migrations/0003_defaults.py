from django.db import migrations

from tierline.desk.defaults import install_desk_defaults


def create_defaults(apps, schema_editor):
    install_desk_defaults(apps)


class Migration(migrations.Migration):
    dependencies = [("desk", "0002_initial"), ("people", "0002_default_teams")]
    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
