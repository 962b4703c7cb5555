"""Cron recurrence of scheduled scaling actions and the average group size over a week."""

from __future__ import annotations

import pytest

from tollgate.cost.schedule import Action, Sizes, cron_field, fire_minutes, weekly_average

MONDAY, SUNDAY = 0, 6 * 1440


def test_cron_fields():
    assert cron_field("*", 0, 5) == {0, 1, 2, 3, 4, 5}
    assert cron_field("1-3,5", 0, 7) == {1, 2, 3, 5}
    assert cron_field("*/15", 0, 59) == {0, 15, 30, 45}
    assert cron_field("MON-FRI", 0, 7, {"MON": 1, "FRI": 5}) == {1, 2, 3, 4, 5}
    with pytest.raises(ValueError, match="outside 0-23"):
        cron_field("25", 0, 23)


def test_fire_minutes_count_the_week_from_monday_and_sunday_is_0_or_7():
    assert fire_minutes("30 7 * * 1") == [MONDAY + 7 * 60 + 30]
    assert fire_minutes("0 0 * * 0") == fire_minutes("0 0 * * 7") == [SUNDAY]
    assert len(fire_minutes("0 20 * * 1-5")) == 5 and len(fire_minutes("0 6 * * *")) == 7


def test_schedules_bound_to_the_month_are_refused():
    with pytest.raises(ValueError, match="day of the month"):
        fire_minutes("0 7 1 * *")
    with pytest.raises(ValueError, match="5-field"):
        fire_minutes("0 7 * *")


def test_office_hours_week_starts_from_where_the_weekend_left_it():
    down = Action("down", "0 20 * * 1-5", 0, 0, 0)
    up = Action("up", "0 7 * * 1-5", 0, 4, 3)
    # Monday 00:00-07:00 is still Friday's scale-down: 13 h × 5 days on, at 3 nodes.
    assert weekly_average(Sizes(0, 4, 3), [down, up]) == pytest.approx(3 * 65 / 168)


def test_unset_sizes_keep_theirs_and_desired_stays_within_min_and_max():
    # only min/max change at night: desired 5 is pushed down to max 1, then back up to min 2 in the morning
    night = Action("night", "0 0 * * *", None, 1, None)
    morning = Action("morning", "0 12 * * *", 2, 6, -1)
    assert weekly_average(Sizes(0, 6, 5), [night, morning]) == pytest.approx((12 * 1 + 12 * 2) / 24)


def test_no_recurring_action_keeps_the_desired_size():
    assert weekly_average(Sizes(0, 3, 2), []) == 2
