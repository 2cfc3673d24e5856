"""Typo tolerance: the index's words, filled from the documents already indexed, and on
PostgreSQL their trigram index (pg_trgm, when it can be created; see backends.py)."""

from django.db import migrations, models

from tierline.knowledge.search import backends, words


def fill_words(apps, schema_editor):
    SearchDocument = apps.get_model("knowledge", "SearchDocument")
    SearchWord = apps.get_model("knowledge", "SearchWord")
    found: set[str] = set()
    for title, body in SearchDocument.objects.values_list("title", "body").iterator(2000):
        found |= words.words_of(title, body)
    SearchWord.objects.bulk_create(
        [SearchWord(word=word) for word in sorted(found)], ignore_conflicts=True, batch_size=1000
    )


def create_trigram_index(apps, schema_editor):
    backends.create_trigram_index(schema_editor)


def drop_trigram_index(apps, schema_editor):
    backends.drop_trigram_index(schema_editor)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0004_search_articles")]

    operations = [
        migrations.CreateModel(
            name="SearchWord",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("word", models.CharField(max_length=40, unique=True, verbose_name="word")),
            ],
        ),
        migrations.RunPython(create_trigram_index, drop_trigram_index),
        migrations.RunPython(fill_words, migrations.RunPython.noop),
    ]
