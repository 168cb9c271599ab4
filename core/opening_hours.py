"""Weekly opening hours of an account: stored as JSON, shown as 'Mon–Fri 08:00–17:00'."""

from __future__ import annotations

import json
import re

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

OpeningHours = dict[str, list[list[str]]]


def parse(text: str | None) -> OpeningHours:
    """JSON text -> {'mon': [['08:00', '17:00']], ...}; raises ValueError naming what is wrong."""
    if not text:
        return {}
    data = json.loads(text)
    if not isinstance(data, dict):
        raise ValueError("opening hours must map weekdays to time ranges")
    for day, ranges in data.items():
        if day not in WEEKDAYS:
            raise ValueError(f"unknown weekday {day!r}")
        for pair in ranges:
            if len(pair) != 2 or not all(_TIME.match(t) for t in pair) or pair[0] >= pair[1]:
                raise ValueError(f"bad time range {pair!r} on {day}")
    return data


def dumps(hours: OpeningHours) -> str:
    return json.dumps({d: hours[d] for d in WEEKDAYS if hours.get(d)}, separators=(",", ":"))


def describe(text: str | None) -> str:
    """Compact human form: 'Mon–Fri 08:00–17:00, Sat 09:00–12:00'."""
    try:
        hours = parse(text)
    except (ValueError, json.JSONDecodeError):
        return "?"
    if not hours:
        return ""
    groups: list[tuple[list[str], str]] = []
    for day in WEEKDAYS:
        ranges = hours.get(day)
        if not ranges:
            continue
        label = ", ".join(f"{a}–{b}" for a, b in ranges)
        if groups and groups[-1][1] == label and WEEKDAYS.index(groups[-1][0][-1]) == WEEKDAYS.index(day) - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], label))
    parts = []
    for days, label in groups:
        name = days[0].title() if len(days) == 1 else f"{days[0].title()}–{days[-1].title()}"
        parts.append(f"{name} {label}")
    return ", ".join(parts)
