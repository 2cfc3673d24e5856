"""Articles join the search index: the kind, and a document for each article already written
(later saves write their own, in knowledge/services.py)."""

from django.db import migrations, models


def index_articles(apps, schema_editor):
    Article = apps.get_model("knowledge", "Article")
    SearchDocument = apps.get_model("knowledge", "SearchDocument")
    SearchDocument.objects.bulk_create(
        [
            SearchDocument(
                kind="article",
                object_id=article.pk,
                ticket_id=None,
                internal=article.audience != "public",
                title=f"KB-{article.pk} {article.title}"[:400],
                body=(article.body or "").replace("\x02", " ").replace("\x03", " "),
            )
            for article in Article.objects.order_by("pk").iterator()
            if not SearchDocument.objects.filter(kind="article", object_id=article.pk).exists()
        ]
    )


def forget_articles(apps, schema_editor):
    apps.get_model("knowledge", "SearchDocument").objects.filter(kind="article").delete()


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0003_guides")]

    operations = [
        migrations.AlterField(
            model_name="searchdocument",
            name="kind",
            field=models.CharField(
                choices=[
                    ("ticket", "Ticket"),
                    ("message", "Reply or note"),
                    ("person", "Person"),
                    ("article", "Article"),
                ],
                max_length=12,
                verbose_name="kind",
            ),
        ),
        migrations.RunPython(index_articles, forget_articles),
    ]
