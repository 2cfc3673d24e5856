from django.db import migrations, models


def fill_next_due(apps, schema_editor):
    """The nearest due time of each running clock's running targets (TicketClock.save's rule)."""
    TicketClock = apps.get_model("sla", "TicketClock")
    for clock in TicketClock.objects.filter(status="running").iterator(chunk_size=500):
        dues = []
        if clock.first_response_minutes is not None and clock.first_response_at is None:
            dues.append(clock.first_response_due)
        if clock.resolution_minutes is not None and clock.resolved_at is None:
            dues.append(clock.resolution_due)
        if clock.next_response_minutes is not None and clock.next_response_since is not None:
            dues.append(clock.next_response_due)
        dues = [due for due in dues if due is not None]
        if dues:
            TicketClock.objects.filter(pk=clock.pk).update(next_due=min(dues))


class Migration(migrations.Migration):
    dependencies = [
        ("sla", "0001_calendars_policies_and_ticket_clocks"),
    ]

    operations = [
        migrations.AddField(
            model_name="ticketclock",
            name="next_due",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.AddIndex(
            model_name="ticketclock",
            index=models.Index(fields=["next_due"], name="sla_clock_next_due_idx"),
        ),
        migrations.AddIndex(
            model_name="ticketclock",
            index=models.Index(
                condition=models.Q(("breached", True)),
                fields=["ticket"],
                name="sla_clock_breached_idx",
            ),
        ),
        migrations.RunPython(fill_next_due, migrations.RunPython.noop),
    ]
