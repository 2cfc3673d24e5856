import django.utils.timezone
from django.db import migrations, models

from tierline.knowledge.search import backends


def create_full_text(apps, schema_editor):
    backends.create_structures(schema_editor)


def drop_full_text(apps, schema_editor):
    backends.drop_structures(schema_editor)


class Migration(migrations.Migration):
    initial = True

    dependencies = [("knowledge", "0001_articles_versions_feedback_links")]

    operations = [
        migrations.CreateModel(
            name="SearchDocument",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("ticket", "Ticket"), ("message", "Reply or note"), ("person", "Person")], max_length=12, verbose_name="kind")),
                ("object_id", models.BigIntegerField(verbose_name="object id")),
                ("ticket_id", models.BigIntegerField(blank=True, null=True)),
                ("internal", models.BooleanField(default=False)),
                ("title", models.CharField(max_length=400, verbose_name="title")),
                ("body", models.TextField(blank=True, verbose_name="text")),
                ("indexed_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
            options={
                "ordering": ["kind", "object_id"],
                "indexes": [models.Index(fields=["ticket_id"], name="searchdoc_ticket_idx")],
                "constraints": [models.UniqueConstraint(fields=("kind", "object_id"), name="searchdoc_kind_object_uniq")],
            },
        ),
        # The full-text structures differ by database (SQLite FTS5 with triggers, PostgreSQL a
        # generated tsvector with GIN): knowledge/search/backends.py holds their SQL.
        migrations.RunPython(create_full_text, drop_full_text),
    ]
