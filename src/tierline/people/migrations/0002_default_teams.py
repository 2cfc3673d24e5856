from django.db import migrations

DEFAULT_TEAMS = [
    ("Tier 1 Service Desk", 1, "First contact: calls, portal and email; simple fixes."),
    ("Tier 2 Desktop & Applications", 2, "Complex desktop, application and device issues; desk visits."),
    ("Tier 3 Infrastructure", 3, "Servers, network, identity: the hardest problems."),
]


def create_teams(apps, schema_editor):
    Team = apps.get_model("people", "Team")
    for name, tier, description in DEFAULT_TEAMS:
        Team.objects.get_or_create(
            name=name,
            defaults={"tier": tier, "description": description, "is_tier_default": True},
        )


class Migration(migrations.Migration):
    dependencies = [("people", "0001_initial")]
    operations = [migrations.RunPython(create_teams, migrations.RunPython.noop)]
