"""Scheduled scaling: the average size of a group over a week of its cron schedules.

Auto Scaling `recurrence` is 5-field Unix cron (minute hour day-of-month month day-of-week). The week
is simulated minute by minute from the group's own size: one warm-up week brings it to the state the
schedules leave it in (e.g. scaled down over the weekend), the next week is measured. A schedule's
`timeZone` moves every action by the same offset, so it does not change the hours per week (DST shifts
of an hour twice a year are ignored). Day-of-month and month must be `*`: such schedules repeat weekly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

WEEK = 7 * 24 * 60
DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
MONTHS = {m: i for i, m in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT",
                                      "NOV", "DEC"), start=1)}


@dataclass(frozen=True)
class Sizes:
    min: int
    max: int
    desired: int


@dataclass(frozen=True)
class Action:
    name: str
    recurrence: str
    min: Optional[int] = None       # None (or negative, Terraform's "unset"): left as it is
    max: Optional[int] = None
    desired: Optional[int] = None

    def apply(self, s: Sizes) -> Sizes:
        low = self.min if self.min is not None and self.min >= 0 else s.min
        high = self.max if self.max is not None and self.max >= 0 else s.max
        want = self.desired if self.desired is not None and self.desired >= 0 else s.desired
        return Sizes(low, high, min(max(want, low), high))  # Auto Scaling keeps desired within [min, max]


def _value(text: str, names: dict[str, int]) -> int:
    return names[text.upper()] if text.upper() in names else int(text)


def cron_field(text: str, low: int, high: int, names: dict[str, int] | None = None) -> set[int]:
    """*, n, a-b, lists of them, and /step; ValueError names what is wrong."""
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            start, end = (_value(x, names or {}) for x in base.split("-", 1))
        else:
            start = _value(base, names or {})
            end = high if step_text else start
        if step < 1 or not low <= start <= end <= high:
            raise ValueError(f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


def fire_minutes(recurrence: str) -> list[int]:
    """Minutes of the week (Monday 00:00 = 0) at which a weekly cron fires."""
    fields = recurrence.split()
    if len(fields) != 5:
        raise ValueError(f"recurrence {recurrence!r} is not 5-field cron (minute hour day-of-month month day-of-week)")
    minute, hour, dom, month, dow = fields
    if dom not in ("*", "?") or month != "*":
        raise ValueError(f"recurrence {recurrence!r} depends on the day of the month or the month; "
                         "the weekly model prices only schedules with day-of-month and month `*`")
    try:
        minutes, hours = cron_field(minute, 0, 59), cron_field(hour, 0, 23)
        days = {d % 7 for d in cron_field(dow.replace("?", "*"), 0, 7, DAYS)}  # 0 and 7 are Sunday
    except ValueError as exc:
        raise ValueError(f"recurrence {recurrence!r}: {exc}") from None
    # cron counts Sunday as 0; the week here starts on Monday.
    return sorted(((d + 6) % 7) * 1440 + h * 60 + m for d in days for h in hours for m in minutes)


def weekly_average(start: Sizes, actions: list[Action]) -> float:
    """Average desired size over a week of these actions (raises ValueError for a cron it cannot read)."""
    events = sorted((minute, i, a) for i, a in enumerate(actions) for minute in fire_minutes(a.recurrence))
    state = start
    for _, _, action in events:  # warm-up week: where the schedules leave the group
        state = action.apply(state)
    area, clock = 0.0, 0
    for minute, _, action in events:
        area += state.desired * (minute - clock)
        clock, state = minute, action.apply(state)
    area += state.desired * (WEEK - clock)
    return area / WEEK
