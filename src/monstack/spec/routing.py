"""Routing in `monstack/v1`: receivers (see `receivers`), routes, time intervals and inhibitions.

Routes match on label values (`match`, `match_re`, anchored like Alertmanager's), may `continue` to later siblings,
nest, and are muted or active in named time intervals. An inhibition reads "while an alert matching `when` fires,
mute the alerts matching `mute` that carry the same values of the `equal` labels".
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime
from functools import cached_property
from typing import Annotated, Any

from pydantic import AfterValidator, Field, field_validator, model_validator

from .base import Strict
from .receivers import (  # noqa: F401 - re-exported: the receiver types have always been importable from here
    CHANNELS, SECRET_HINT, BasicAuth, Email, MSTeams, OneOrMany, Opsgenie, PagerDuty, Receiver, Responder,
    SecretRef, Slack, Telegram, Webhook, plain_url,
)
from .units import DurationField

LABEL_RE = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
LabelName = Annotated[str, Field(pattern=LABEL_RE)]
LabelMatch = dict[LabelName, str]


def _re2(pattern: str) -> str:
    from ..syntax import regex  # noqa: PLC0415 - a leaf module of pure text rules

    if (why := regex.error(pattern)) is not None:
        raise ValueError(f"invalid regex {pattern!r} (Alertmanager reads Go's RE2 syntax): {why}")
    return pattern


LabelRegexes = dict[LabelName, Annotated[str, AfterValidator(_re2)]]


def _wildcard_alone(value: list[str]) -> list[str]:
    if "..." in value and len(value) > 1:
        raise ValueError("`...` groups by every label: give it alone, not with other labels")
    twice = sorted({label for label in value if value.count(label) > 1})
    if twice:
        raise ValueError(f"duplicated label {twice[0]!r}: Alertmanager refuses a group_by that names a label twice")
    return value


GroupBy = Annotated[list[Annotated[str, Field(pattern=r"^([a-zA-Z_][a-zA-Z0-9_]*|\.\.\.)$")]],
                    AfterValidator(_wildcard_alone)]
IntervalName = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+$")]

WEEKDAYS = ("sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday")
MONTHS = ("january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
          "november", "december")
_CLOCK = re.compile(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$")


def _no_spam(group_interval) -> None:
    if group_interval is not None and group_interval.seconds < 60:
        raise ValueError(f"group_interval {group_interval} re-notifies a group more than once a minute; "
                         "use 1m or more (5m is usual)")


class Route(Strict):
    match: LabelMatch = Field(default_factory=dict, description="label: value, all equal")
    match_re: LabelRegexes = Field(default_factory=dict, description="label: regex, all matching (anchored, RE2)")
    receiver: str
    continue_: bool = Field(False, alias="continue", description="also try the next sibling routes")
    group_by: GroupBy | None = Field(None, description="labels that make a notification group; [...] for all")
    group_wait: DurationField | None = None
    group_interval: DurationField | None = None
    repeat_interval: DurationField | None = None
    mute_time_intervals: list[IntervalName] = Field(default_factory=list, description="silent during these")
    active_time_intervals: list[IntervalName] = Field(default_factory=list, description="silent outside these")
    routes: list["Route"] = Field(default_factory=list)

    @model_validator(mode="after")
    def _regexes(self) -> "Route":
        from ..syntax import regex  # noqa: PLC0415 - a leaf module of pure text rules

        for label, pattern in self.match_re.items():
            if label in self.match and not regex.fullmatch(pattern, self.match[label]):
                raise ValueError(f"{label} must equal {self.match[label]!r} and match {pattern!r}: this route "
                                 "can never match")
        _no_spam(self.group_interval)
        return self


class Inhibit(Strict):
    """While an alert matching `when` fires, mute alerts matching `mute` that share the `equal` labels."""

    when: LabelMatch = Field(min_length=1, description="the alerts that mute (label: value)")
    mute: LabelMatch = Field(min_length=1, description="the alerts muted (label: value)")
    equal: list[LabelName] = Field(default_factory=list, description="labels both must carry with the same value")


class TimeInterval(Strict):
    """A named recurring period, as Alertmanager defines it: every field given must hold (an empty one always
    does). Ranges are inclusive, `a:b`; times are `HH:MM-HH:MM`, the end excluded."""

    name: IntervalName
    weekdays: list[str] = Field(default_factory=list, description="e.g. monday:friday, saturday")
    times: list[str] = Field(default_factory=list, description="e.g. 09:00-18:00 (the end excluded)")
    days_of_month: list[str | int] = Field(default_factory=list, description="e.g. 1:7, -1 (the last day)")
    months: list[str | int] = Field(default_factory=list, description="e.g. december, 1:3")
    years: list[str | int] = Field(default_factory=list, description="e.g. 2025:2026")
    location: str | None = Field(None, description="IANA time zone, e.g. Europe/Paris; default UTC")

    @field_validator("weekdays", "months", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return [v.lower() if isinstance(v, str) else v for v in value] if isinstance(value, list) else value

    @field_validator("weekdays", "times", "days_of_month", "months", "years")
    @classmethod
    def _ranges(cls, value: list, info) -> list:
        for item in value:
            _PARSERS[info.field_name](item)  # every format error at load time, at the field's line
        return value

    @field_validator("location")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and zoneinfo.available_timezones():
            try:
                zoneinfo.ZoneInfo(value)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris or UTC") \
                    from None
        return value

    @cached_property
    def ranges(self) -> dict[str, list[tuple[int, int]]]:
        """Each given field as inclusive (begin, end) ranges; times in minutes of the day, the end excluded."""
        return {field: [_PARSERS[field](v) for v in getattr(self, field)] for field in _PARSERS if getattr(self, field)}

    def contains(self, when: datetime) -> bool:
        """Whether `when` (naive: UTC) falls in this interval (Alertmanager's `ContainsTime`)."""
        utc = zoneinfo.ZoneInfo("UTC")
        when = (when if when.tzinfo else when.replace(tzinfo=utc)).astimezone(zoneinfo.ZoneInfo(self.location or "UTC"))
        r = self.ranges
        minute = when.hour * 60 + when.minute
        weekday = (when.weekday() + 1) % 7  # Python: Monday 0; Alertmanager: Sunday 0
        checks = [("times", minute, True), ("weekdays", weekday, False), ("months", when.month, False),
                  ("years", when.year, False)]
        for field, value, end_excluded in checks:
            if field in r and not any(b <= value < e if end_excluded else b <= value <= e for b, e in r[field]):
                return False
        if "days_of_month" in r:
            days = _days_in_month(when)
            found = False
            for b, e in r["days_of_month"]:
                b, e = (days + b + 1 if b < 0 else b), (days + e + 1 if e < 0 else e)
                if b <= days and b <= when.day <= min(e, days):
                    found = True
            if not found:
                return False
        return True


def _days_in_month(when: datetime) -> int:
    nxt = datetime(when.year + when.month // 12, when.month % 12 + 1, 1)
    return (nxt - datetime(when.year, when.month, 1)).days


def _range(field: str, value: str | int, member) -> tuple[int, int]:
    parts = str(value).split(":")
    if len(parts) > 2 or not all(parts):
        raise ValueError(f"{field}: {value!r} is not a value or a range `a:b`")
    begin, end = member(parts[0]), member(parts[-1])
    if begin > end:
        raise ValueError(f"{field}: {value!r} ends before it starts (split it: a range never wraps around)")
    return begin, end


def _weekday(text: str) -> int:
    if text not in WEEKDAYS:
        raise ValueError(f"weekdays: {text!r} is not a weekday (monday ... sunday)")
    return WEEKDAYS.index(text)


def _month(text: str) -> int:
    if text in MONTHS:
        return MONTHS.index(text) + 1
    if text.isdigit() and 1 <= int(text) <= 12:
        return int(text)
    raise ValueError(f"months: {text!r} is not a month (january ... december, or 1 ... 12)")


def _year(text: str) -> int:
    if not text.isdigit():
        raise ValueError(f"years: {text!r} is not a year")
    return int(text)


def _day_range(value: str | int) -> tuple[int, int]:
    parts = str(value).split(":")
    try:
        days = [int(p) for p in parts]
    except ValueError:
        raise ValueError(f"days_of_month: {value!r} is not a day (1 ... 31, -1 the last) or a range") from None
    if len(days) > 2 or any(d == 0 or not -31 <= d <= 31 for d in days):
        raise ValueError(f"days_of_month: {value!r}: days are 1 ... 31, or -1 ... -31 counted from the month's end")
    begin, end = days[0], days[-1]
    if begin < 0 < end:
        raise ValueError(f"days_of_month: {value!r}: a range that starts from the end must end there too")
    if (begin + 28 if begin < 0 else begin) > (end + 28 if end < 0 else end):
        raise ValueError(f"days_of_month: {value!r} ends before it starts")
    return begin, end


def _time_range(value: str) -> tuple[int, int]:
    parts = value.replace(" ", "").split("-")
    if len(parts) != 2 or not all(_CLOCK.match(p) for p in parts):
        raise ValueError(f"times: {value!r} is not `HH:MM-HH:MM` (e.g. 09:00-18:00; 24:00 ends the day)")
    begin, end = (int(p[:2]) * 60 + int(p[3:]) for p in parts)
    if begin >= end:
        raise ValueError(f"times: {value!r} ends before it starts; a range never crosses midnight: "
                         "write two (e.g. 18:00-24:00 and 00:00-09:00)")
    return begin, end


_PARSERS = {
    "weekdays": lambda v: _range("weekdays", v, _weekday),
    "times": lambda v: _time_range(v),
    "days_of_month": lambda v: _day_range(v),
    "months": lambda v: _range("months", v, _month),
    "years": lambda v: _range("years", v, _year),
}


class Routing(Strict):
    receiver: str = Field(description="the default receiver (root route)")
    group_by: GroupBy = Field(default_factory=lambda: ["alertname", "service"])
    group_wait: DurationField = "30s"
    group_interval: DurationField = "5m"
    repeat_interval: DurationField = "4h"
    resolve_timeout: DurationField = "5m"
    receivers: list[Receiver] = Field(min_length=1)
    routes: list[Route] = Field(default_factory=list)
    time_intervals: list[TimeInterval] = Field(default_factory=list)
    inhibit: list[Inhibit] = Field(default_factory=list)
    templates: list[str] = Field(default_factory=list, description="extra notification template files")

    @model_validator(mode="after")
    def _no_spam(self) -> "Routing":
        _no_spam(self.group_interval)
        return self
