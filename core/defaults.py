"""The defaults every feature shares when a rep or an account does not say: time zone, speed, lunch, working hours."""

from __future__ import annotations

# A rep without a time zone is taken to work in US Central (the schema's default too).
TIME_ZONE = "America/Chicago"
# Average door-to-door driving speed for offline drive-time estimates (great circle x circuity).
SPEED_KMH = 65.0
# A rep's working day when the rep's record does not say.
WORK_START = "08:00"
WORK_END = "17:00"
# Lunch: how long, and the window it must start and end in.
LUNCH_MINUTES = 30
LUNCH_WINDOW = ("11:30", "14:00")
# An account without its own visit parameters (the schema's column defaults).
VISIT_MINUTES = 45
VISIT_FREQUENCY = "monthly"
# "N per cycle" visits outside a rotation (workload, due dates) count a cycle as this many weeks.
CYCLE_WEEKS = 4
