from django.db import migrations

TYPES = [
    ("Computer", True),
    ("Laptop", False),
    ("Desktop", False),
    ("Monitor", False),
    ("Printer", False),
    ("Phone", False),
    ("Network device", False),
    ("Server", False),
    ("Software licence", False),
]


def add_types(apps, schema_editor):
    AssetType = apps.get_model("assets", "AssetType")
    for name, by_agent in TYPES:
        AssetType.objects.get_or_create(name=name, defaults={"reported_by_agent": by_agent})


class Migration(migrations.Migration):
    dependencies = [("assets", "0001_inventory_agents_and_ticket_links")]

    operations = [migrations.RunPython(add_types, migrations.RunPython.noop)]
