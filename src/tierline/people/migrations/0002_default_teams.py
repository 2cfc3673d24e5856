from django.db import migrations

from tierline.people.defaults import install_default_teams


def create_teams(apps, schema_editor):
    install_default_teams(apps)


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(create_teams, migrations.RunPython.noop)]
