"""The retention rule: a workshop's personal data goes by itself N days after the workshop ended (frozen time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.celery import app
from privacy import tasks
from privacy.models import Erasure
from tests.privacy.conftest import close
from workshops.models import Participant

pytestmark = pytest.mark.django_db
HELSINKI = ZoneInfo("Europe/Helsinki")
# In UTC: the period is counted in whole 24-hour days, across the change to summer time too.
CLOSED_AT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.fixture
def closed_trail(trail, facilitator, time_machine, settings):
    settings.KEHITTAMO_RETENTION_DAYS = 30
    time_machine.move_to(CLOSED_AT, tick=False)
    close(trail, facilitator)
    return trail


def canary_name(trail) -> str:
    return Participant.objects.get(pk=trail.canary.pk).name


def test_nothing_is_erased_before_the_period_has_passed(closed_trail, time_machine):
    time_machine.move_to(CLOSED_AT + timedelta(days=30) - timedelta(minutes=1), tick=False)
    assert tasks.erase_expired_personal_data() == []
    assert canary_name(closed_trail) == "Kanarialintu Kaivosmies"


def test_the_data_is_erased_once_the_period_has_passed_and_only_once(closed_trail, time_machine, trail):
    time_machine.move_to(CLOSED_AT + timedelta(days=30, minutes=1), tick=False)
    assert tasks.erase_expired_personal_data() == [closed_trail.workshop.pk]
    assert canary_name(closed_trail).startswith("Osallistuja ")
    erasure = Erasure.objects.get()
    assert erasure.automatic and erasure.erased_by is None and erasure.whole_workshop
    time_machine.move_to(CLOSED_AT + timedelta(days=31), tick=False)
    assert tasks.erase_expired_personal_data() == []
    assert Erasure.objects.count() == 1


def test_a_running_workshop_is_never_erased_by_the_rule(trail, time_machine, settings):
    settings.KEHITTAMO_RETENTION_DAYS = 1
    time_machine.move_to(datetime.now(tz=HELSINKI) + timedelta(days=400), tick=False)
    assert tasks.erase_expired_personal_data() == []
    assert canary_name(trail) == "Kanarialintu Kaivosmies"


def test_zero_days_switches_the_rule_off(closed_trail, time_machine, settings):
    settings.KEHITTAMO_RETENTION_DAYS = 0
    time_machine.move_to(CLOSED_AT + timedelta(days=3650), tick=False)
    assert tasks.erase_expired_personal_data() == []


def test_celery_beat_runs_the_rule_every_day():
    schedule = app.conf.beat_schedule
    entry = next(entry for entry in schedule.values() if entry["task"] == "privacy.erase_expired_personal_data")
    assert entry["task"] in app.tasks
    assert entry["schedule"].remaining_estimate(datetime.now(tz=HELSINKI)) <= timedelta(days=1)


def test_docker_compose_runs_one_beat_next_to_the_worker():
    compose = (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    beat = compose.split("\n  beat:\n", 1)[1].split("\n\n", 1)[0]
    assert '"celery", "-A", "config", "beat"' in beat
