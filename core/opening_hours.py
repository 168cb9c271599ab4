"""Weekly opening hours of an account: stored as JSON, read once into WeeklyHours, typed as 'Mon-Fri 8am-5pm'."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# 24:00 is allowed as a closing time so "open all day" needs no 23:59 fudge.
_TIME = re.compile(r"^(?:([01]\d|2[0-3]):[0-5]\d|24:00)$")

OpeningHours = dict[str, list[list[str]]]
Window = tuple[int, int]  # minutes after local midnight, start < end


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
        if not isinstance(ranges, list):
            raise ValueError(f"bad time ranges {ranges!r} on {day}")
        for pair in ranges:
            if (not isinstance(pair, (list, tuple)) or len(pair) != 2
                    or not all(isinstance(t, str) and _TIME.match(t) for t in pair) or pair[0] >= pair[1]):
                raise ValueError(f"bad time range {pair!r} on {day}")
    return data


def dumps(hours: OpeningHours) -> str:
    """The stored form. Days without hours are left out; hours known but closed every day keep all seven, empty."""
    kept = {d: hours[d] for d in WEEKDAYS if hours.get(d)}
    if not kept and hours:
        kept = {d: [] for d in WEEKDAYS}
    return json.dumps(kept, separators=(",", ":"))


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    return int(text[:2]) * 60 + int(text[3:5])


@dataclass(frozen=True)
class WeeklyHours:
    """Opening windows for each weekday (Mon first). A day without windows is closed; there is no 'impossible window'."""

    days: tuple[tuple[Window, ...], ...]

    @staticmethod
    def closed() -> "WeeklyHours":
        return WeeklyHours(((),) * 7)

    @staticmethod
    def from_json(text: str | None) -> "WeeklyHours | None":
        """None when the hours are not known (nothing stored); raises ValueError on a malformed value."""
        data = parse(text)
        if not data:
            return None
        return WeeklyHours(tuple(tuple((_minutes(a), _minutes(b)) for a, b in data.get(day, []))
                                 for day in WEEKDAYS))

    def to_json(self) -> str:
        return dumps({day: [[_hhmm(a), _hhmm(b)] for a, b in windows]
                      for day, windows in zip(WEEKDAYS, self.days)} or {})

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """Opening windows on this date, in minutes after local midnight (empty when closed)."""
        return self.days[day.weekday()]

    def open_on(self, weekday: str | int) -> bool:
        """Open at some time on this weekday ('mon' or 0 = Monday)."""
        index = WEEKDAYS.index(weekday) if isinstance(weekday, str) else weekday
        return bool(self.days[index])

    def open_weekdays(self) -> tuple[str, ...]:
        return tuple(day for day, windows in zip(WEEKDAYS, self.days) if windows)

    def describe(self) -> str:
        return describe(self.to_json())


def describe(text: str | None) -> str:
    """Compact human form: 'Mon–Fri 08:00–17:00, Sat 09:00–12:00' ('Closed' when closed every day)."""
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
    if not groups:
        return "Closed"
    parts = []
    for days, label in groups:
        name = days[0].title() if len(days) == 1 else f"{days[0].title()}–{days[-1].title()}"
        parts.append(f"{name} {label}")
    return ", ".join(parts)


# --- reading what people type and what CRMs export ---------------------------------------------------
_DAY_WORDS = {
    "mon": 0, "monday": 0, "mo": 0, "m": 0,
    "tue": 1, "tues": 1, "tuesday": 1, "tu": 1, "t": 1,
    "wed": 2, "weds": 2, "wednesday": 2, "we": 2, "w": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "th": 3, "r": 3,
    "fri": 4, "friday": 4, "fr": 4, "f": 4,
    "sat": 5, "saturday": 5, "sa": 5,
    "sun": 6, "sunday": 6, "su": 6,
}
_DAY_SETS = {
    "weekdays": range(0, 5), "weekday": range(0, 5), "weekends": range(5, 7), "weekend": range(5, 7),
    "daily": range(7), "everyday": range(7), "every day": range(7), "all week": range(7), "7 days": range(7),
}
_ALWAYS = re.compile(r"^(?:open\s*)?(?:24\s*/\s*7|24\s*x\s*7|24\s*hours?(?:\s*a\s*day)?|always open|24h)$")
_DAY = "|".join(sorted((re.escape(w) for w in [*_DAY_WORDS, *_DAY_SETS]), key=len, reverse=True))
_CLOCK = r"(?:\d{1,2}(?::?\d{2})?\s*(?:a\.?m\.?|p\.?m\.?|a|p)?|noon|midnight)"
_TOKEN = re.compile(
    rf"(?P<range>(?P<t1>{_CLOCK})\s*-\s*(?P<t2>{_CLOCK}))"
    rf"|(?P<allday>(?:open\s*)?24\s*hours?|all\s*day)"
    rf"|(?P<closed>closed|off)"
    rf"|(?P<days>(?P<d1>{_DAY})\.?(?:\s*-\s*(?P<d2>{_DAY})\.?)?)(?![a-z])"
    rf"|(?P<gap>[\s,;:|&/+.]+|\band\b|\bopen\b|\bhours\b)"
)
_CLOCK_PARTS = re.compile(r"^(\d{1,2})(?::?(\d{2}))?\s*(a\.?m\.?|p\.?m\.?|a|p)?$")


def _clock(text: str) -> tuple[int, bool]:
    """'8:30 pm' -> (1230, True); the flag says whether am/pm was given."""
    if text == "noon":
        return 720, True
    if text == "midnight":
        return 0, True
    m = _CLOCK_PARTS.match(text.replace(" ", ""))
    if not m:
        raise ValueError(f"cannot read the time {text!r}")
    hour, minute, half = int(m.group(1)), int(m.group(2) or 0), m.group(3)
    if minute > 59 or hour > 24 or (hour == 24 and minute):
        raise ValueError(f"{text!r} is not a time of day")
    if half:
        if hour > 12 or hour == 0:
            raise ValueError(f"{text!r} is not a time of day")
        hour = hour % 12 + (12 if half.startswith("p") else 0)
    return hour * 60 + minute, bool(half)


def _window(t1: str, t2: str) -> Window:
    a, a_half = _clock(t1)
    b, b_half = _clock(t2)
    if b == 0 and (t2 == "midnight" or b_half or t2.startswith(("24", "00", "0:"))):
        b = 1440  # "10pm-12am", "18:00-24:00": closes at midnight
    if b <= a and not b_half and a < 780 and b < 720 and b + 720 > a and not t2.startswith("0"):
        b += 720  # "9-5" means 09:00-17:00 (but "17:00-08:00" and "08:00-05:00" are mistakes)
    if b <= a:
        raise ValueError(f"{t1}-{t2}: closes before it opens (hours past midnight: split them over two days)")
    return a, b


def parse_text(text: str | None) -> WeeklyHours | None:
    """What a person or a CRM writes -> WeeklyHours, or None for an empty cell.

    Reads 'Mon-Fri 08:00-17:00; Sat 09:00-12:00', 'M-F 8am-5pm', 'Monday: 9:00 AM – 5:00 PM | ...',
    'Weekdays 9-5, Sat 10-2', '24/7', 'Closed' and the stored JSON. Days not named are closed; a later
    mention of a day replaces an earlier one ('Mon-Fri 8-5; Fri 8-12'). Raises ValueError saying what is wrong.
    """
    if text is None or not str(text).strip():
        return None
    raw = str(text).strip()
    if raw.startswith("{"):
        try:
            hours = WeeklyHours.from_json(raw)
        except json.JSONDecodeError:
            raise ValueError("opening hours look like JSON but are not valid JSON") from None
        return hours if hours is not None else WeeklyHours.closed()
    s = raw.lower()
    for dash in ("\u2013", "\u2014", "\u2012", "\u2212", " to ", " through ", " thru ", " until "):
        s = s.replace(dash, "-")
    s = " ".join(s.split())
    if _ALWAYS.match(s):
        return WeeklyHours((((0, 1440),),) * 7)
    if s in ("closed", "closed all week", "permanently closed", "none"):
        return WeeklyHours.closed()
    days: list[list[Window]] = [[] for _ in range(7)]
    group: list[int] = []
    group_filled = False   # times or 'closed' seen for the current group of days
    seen_days = False
    pos = 0
    while pos < len(s):
        m = _TOKEN.match(s, pos)
        if not m or m.end() == pos:
            bad = s[pos:].split(" ")[0] or s[pos:]
            raise ValueError(f"cannot read {bad!r} in the opening hours (write e.g. 'Mon-Fri 08:00-17:00; Sat 09:00-12:00')")
        pos = m.end()
        if m.group("days"):
            d1 = m.group("d1")
            if d1 in _DAY_SETS and not m.group("d2"):
                named = list(_DAY_SETS[d1])
            else:
                if d1 not in _DAY_WORDS or m.group("d2") not in _DAY_WORDS | {None: 0}:
                    raise ValueError(f"cannot read the days {m.group('days')!r}")
                i = _DAY_WORDS[d1]
                j = _DAY_WORDS[m.group("d2")] if m.group("d2") else i
                named = list(range(i, j + 1)) if i <= j else [*range(i, 7), *range(0, j + 1)]
            if group_filled:
                group, group_filled = [], False
            for d in named:
                if d not in group:
                    group.append(d)
            seen_days = True
            continue
        if m.group("gap"):
            continue
        if not group:
            if m.group("t1"):
                # A window that closes before it opens is the worse mistake: say that one first.
                _window(m.group("t1").strip(), m.group("t2").strip())
            raise ValueError("name the days the hours are for, e.g. 'Mon-Fri 08:00-17:00'")
        if not group_filled:
            for d in group:
                days[d] = []   # a later mention of a day replaces what an earlier one said
        group_filled = True
        if m.group("closed"):
            continue
        window = (0, 1440) if m.group("allday") else _window(m.group("t1").strip(), m.group("t2").strip())
        for d in group:
            days[d].append(window)
    if not seen_days:
        raise ValueError("name the days the hours are for, e.g. 'Mon-Fri 08:00-17:00'")
    if group and not group_filled:
        names = ", ".join(WEEKDAYS[d].title() for d in group)
        raise ValueError(f"no hours given for {names} (write the hours, or 'Closed')")
    out = []
    for d, windows in enumerate(days):
        windows.sort()
        for (a0, a1), (b0, b1) in zip(windows, windows[1:]):
            if b0 < a1:
                raise ValueError(f"{WEEKDAYS[d].title()}: {_hhmm(a0)}-{_hhmm(a1)} and {_hhmm(b0)}-{_hhmm(b1)} overlap")
        out.append(tuple(windows))
    return WeeklyHours(tuple(out))


def normalise(text: str | None) -> str | None:
    """Typed or exported hours -> the stored JSON (None for empty); raises ValueError like parse_text."""
    hours = parse_text(text)
    return None if hours is None else hours.to_json()


def parse_weekdays(text: str | None) -> tuple[str, ...] | None:
    """'mon,wed,fri', 'Mon-Fri', 'M-F', 'Tuesday; Thursday', 'weekdays' -> ('mon', ...) in week order.

    None or blank means no restriction (returns None); raises ValueError naming a day it cannot read.
    """
    if text is None or not str(text).strip():
        return None
    s = str(text).strip().lower()
    for dash in ("\u2013", "\u2014", " to ", " through "):
        s = s.replace(dash, "-")
    s = re.sub(r"\s*-\s*", "-", s)
    s = " ".join(s.split())
    if s in _DAY_SETS:
        return tuple(WEEKDAYS[d] for d in _DAY_SETS[s])
    named: set[int] = set()
    for part in re.split(r"\s*(?:[,;|/&+]|\band\b|\s)\s*", s):
        part = part.strip(" .")
        if not part:
            continue
        if part in _DAY_SETS:
            named.update(_DAY_SETS[part])
            continue
        a, _, b = (x.strip(" .") for x in part.partition("-"))
        if a not in _DAY_WORDS or (b and b not in _DAY_WORDS):
            raise ValueError(f"unknown weekday {part!r} (use mon,tue,wed,thu,fri,sat,sun)")
        i, j = _DAY_WORDS[a], _DAY_WORDS[b or a]
        named.update(range(i, j + 1) if i <= j else [*range(i, 7), *range(0, j + 1)])
    return tuple(WEEKDAYS[d] for d in sorted(named))


def format_weekdays(days: tuple[str, ...] | list[str] | None) -> str | None:
    """The stored form of allowed weekdays: 'mon,tue,wed' (None for no restriction)."""
    if days is None:
        return None
    return ",".join(d for d in WEEKDAYS if d in days)


def describe_weekdays(days: tuple[str, ...] | list[str]) -> str:
    """('mon', ..., 'fri') → 'Mon–Fri'; other sets as a comma list ('Mon, Wed, Sat')."""
    idx = sorted(WEEKDAYS.index(d) for d in set(days))
    names = [WEEKDAYS[i].title() for i in idx]
    if len(idx) > 2 and idx == list(range(idx[0], idx[-1] + 1)):
        return f"{names[0]}–{names[-1]}"
    return ", ".join(names)


DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def describe_weekdays_plural(days: tuple[str, ...] | list[str]) -> str:
    """('sat',) → 'Saturdays'; ('sat', 'sun') → 'Saturdays and Sundays'; more → 'Mon, Wed, Fri'."""
    idx = sorted(WEEKDAYS.index(d) for d in set(days))
    if len(idx) <= 2:
        return " and ".join(DAY_NAMES[i] + "s" for i in idx)
    return describe_weekdays(days)
