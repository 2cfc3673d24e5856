"""Attachment.internal: a technician chooses public or internal for a file; the files of an
internal note, internal already in effect, say so in the row. Attachment.preview: an image's
re-encoded thumbnail (older images get theirs drawn when first shown)."""

from django.db import migrations, models


def mark_internal_notes_files(apps, schema_editor):
    Attachment = apps.get_model("desk", "Attachment")
    Attachment.objects.filter(message__internal=True).update(internal=True)


class Migration(migrations.Migration):
    dependencies = [("desk", "0007_unescape_text_stored_escaped")]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="internal",
            field=models.BooleanField(
                default=False,
                help_text="Only the help desk sees an internal file.",
                verbose_name="internal",
            ),
        ),
        migrations.AddField(
            model_name="attachment",
            name="preview",
            field=models.FileField(blank=True, max_length=200, upload_to="previews/"),
        ),
        migrations.RunPython(mark_internal_notes_files, migrations.RunPython.noop),
    ]
