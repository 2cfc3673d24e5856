"""`tierline agent-token` prints a one-time enrolment token that enrols exactly one agent."""

from __future__ import annotations

import pytest

from tierline import cli
from tierline.assets import agent
from tierline.assets.models import EnrolmentToken

pytestmark = pytest.mark.django_db


def test_agent_token_prints_a_token_that_enrols_once(capsys):
    assert cli.main(["agent-token", "--days", "2"]) == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("tle_") and "shown only now" in err
    assert EnrolmentToken.objects.get().digest == agent.digest(key)
    agent.enrol(enrolment_key=key)
    with pytest.raises(agent.ReportRefused):
        agent.enrol(enrolment_key=key)


def test_agent_token_refuses_a_bad_number_of_days(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["agent-token", "--days", "0"])
    assert exit_.value.code == 2
    assert "must be at least 1" in capsys.readouterr().err
