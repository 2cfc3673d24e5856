"""The checker that keeps each app to writing its own models (scripts/check_model_writes.py).

`make test` runs it over the repository as a gate, beside import-linter's layers contract
(pyproject.toml); these tests show that it finds what it must and nothing else."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHECK = ROOT / "scripts" / "check_model_writes.py"


def run_check(package_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(CHECK), str(package_dir)], capture_output=True, text=True, check=False
    )


def make_house(tmp_path: Path, desk_code: str) -> Path:
    """A two-app package: people owns Team, desk has one module with `desk_code`."""
    package = tmp_path / "tierline"
    for app in ("people", "desk"):
        (package / app).mkdir(parents=True)
        (package / app / "__init__.py").write_text("")
    (package / "people" / "models.py").write_text(
        textwrap.dedent(
            """
            from django.db import models

            class Team(models.Model):
                class Kind(models.TextChoices):
                    A = "a"

            class Level(models.IntegerChoices):
                LOW = 1
            """
        )
    )
    (package / "desk" / "models.py").write_text("from django.db import models\n")
    (package / "desk" / "services.py").write_text(textwrap.dedent(desk_code))
    return package


@pytest.mark.parametrize(
    ("code", "what"),
    [
        ("Team.objects.create(name='x')", ".create()"),
        ("Team.objects.filter(pk=1).update(name='x')", ".update()"),
        ("Team.objects.get_or_create(name='x')", ".get_or_create()"),
        ("Team._default_manager.filter(pk=1).delete()", ".delete()"),
        ("Team(name='x').save()", "a new row"),
        ("people_models.Team.objects.bulk_create([])", ".bulk_create()"),
    ],
)
def test_a_write_to_another_apps_model_is_reported(tmp_path, code, what):
    # given desk code that writes people's Team
    package = make_house(
        tmp_path,
        f"""
        from tierline.people import models as people_models
        from tierline.people.models import Team

        def go():
            {code}
        """,
    )
    # when
    result = run_check(package)
    # then
    assert result.returncode == 1
    assert f"services.py:6: writes people.Team ({what})" in result.stdout


def test_reading_another_apps_model_and_its_enums_is_not_a_write(tmp_path):
    package = make_house(
        tmp_path,
        """
        from tierline.people.models import Level, Team

        def go():
            Level(1)
            Team.Kind("a")
            return Team.objects.filter(pk=1).exists(), Team.objects.get(pk=1)
        """,
    )
    result = run_check(package)
    assert result.returncode == 0, result.stdout


def test_an_app_may_write_its_own_models(tmp_path):
    package = make_house(tmp_path, "def go():\n    pass\n")
    (package / "people" / "services.py").write_text(
        "from tierline.people.models import Team\n\ndef go():\n    Team.objects.create(name='x')\n"
    )
    assert run_check(package).returncode == 0
