"""Opening hours as people and CRMs write them, read once into WeeklyHours."""

from __future__ import annotations

from datetime import date

import pytest

from core import opening_hours as oh
from core.opening_hours import WeeklyHours, parse_text


@pytest.mark.parametrize("text, expected", [
    ("Mon-Fri 08:00-17:00; Sat 09:00-12:00", "Mon–Fri 08:00–17:00, Sat 09:00–12:00"),
    ("M-F 8am-5pm", "Mon–Fri 08:00–17:00"),
    ("Monday: 9:00 AM – 5:00 PM | Tuesday: 9:00 AM – 5:00 PM | Saturday: Closed", "Mon–Tue 09:00–17:00"),
    ("Weekdays 9-5, Sat 10-2", "Mon–Fri 09:00–17:00, Sat 10:00–14:00"),
    ("Mon 9-12, 13:00-17:00; Tue-Thu 0800-1700", "Mon 09:00–12:00, 13:00–17:00, Tue–Thu 08:00–17:00"),
    ("Mon-Fri 8-5; Fri 8-12", "Mon–Thu 08:00–17:00, Fri 08:00–12:00"),
    ("Mon-Fri: 8:30am - 5:30pm, Sat: 9am - 1pm, Sun: closed", "Mon–Fri 08:30–17:30, Sat 09:00–13:00"),
    ("Daily 10am-10pm", "Mon–Sun 10:00–22:00"),
    ("24/7", "Mon–Sun 00:00–24:00"),
    ("Closed", "Closed"),
    ("Sat 9-1", "Sat 09:00–13:00"),
    ('{"mon": [["08:00", "12:00"]]}', "Mon 08:00–12:00"),
])
def test_crm_spellings(text, expected):
    hours = parse_text(text)
    assert hours.describe() == expected
    # What describe() writes reads back the same (exports round-trip through import).
    assert parse_text(hours.describe()) == hours


@pytest.mark.parametrize("text, reason", [
    ("9-5", "name the days"),
    ("Mon", "no hours given for Mon"),
    ("Mon 17:00-08:00", "closes before it opens"),
    ("17:00-08:00", "closes before it opens"),   # no days either: the window is the worse mistake
    ("Mon 9-12, 11-13", "overlap"),
    ("Funday 9-5", "cannot read 'funday'"),
    ("Mon 25:00-26:00", "not a time of day"),
    ("{broken", "not valid JSON"),
])
def test_bad_hours_say_why(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_text(text)


def test_windows_on_a_date_and_closed_means_no_windows():
    hours = parse_text("Sat 09:00-12:00")
    saturday, monday = date(2026, 12, 5), date(2026, 12, 7)
    assert hours.windows_on(saturday) == ((540, 720),)
    assert hours.windows_on(monday) == ()
    assert hours.open_on("sat") and not hours.open_on(0)
    assert hours.open_weekdays() == ("sat",)
    closed = parse_text("Closed")
    assert closed.open_weekdays() == () and closed.windows_on(saturday) == ()
    # Closed every day is stored as known-and-closed, not as "hours not known".
    assert WeeklyHours.from_json(closed.to_json()) == closed
    assert WeeklyHours.from_json(None) is None and parse_text("  ") is None


@pytest.mark.parametrize("text, days", [
    ("mon,wed,fri", ("mon", "wed", "fri")), ("Mon - Fri", oh.WEEKDAYS[:5]), ("M-F", oh.WEEKDAYS[:5]),
    ("Tuesday; Thursday", ("tue", "thu")), ("weekends", ("sat", "sun")), ("", None),
])
def test_weekdays(text, days):
    assert oh.parse_weekdays(text) == days
