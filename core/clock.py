"""Time: the hybrid logical clock that orders edits across devices, and the UTC text every stored time uses."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo


def utc_text(moment: datetime) -> str:
    """'2026-12-07T14:08:00Z': how times are stored (an aware datetime, any zone)."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def utc_now() -> str:
    """Now, as utc_text writes it: the stamp of rows written when something happened (a sync, a conflict)."""
    return utc_text(datetime.now(timezone.utc))


def local_days_in_utc(first: date, days: int, tz_name: str) -> tuple[str, str]:
    """[local midnight of `first`, local midnight `days` later) as stored UTC text, for range queries.

    Both ends are local midnights, so a day with a daylight-saving change is 23 or 25 hours long.
    """
    tz = ZoneInfo(tz_name)
    lo, hi = (datetime.combine(d, datetime.min.time(), tz) for d in (first, first + timedelta(days=days)))
    return utc_text(lo), utc_text(hi)


@dataclass(frozen=True, order=True)
class Timestamp:
    """A hybrid logical time: wall milliseconds, a counter, and the node that made it."""

    millis: int
    counter: int
    node: str

    def __str__(self) -> str:
        # Fixed-width fields so that string order equals time order in SQL.
        return f"{self.millis:015d}-{self.counter:05d}-{self.node}"

    @classmethod
    def parse(cls, text: str) -> "Timestamp":
        millis, counter, node = text.split("-", 2)
        return cls(int(millis), int(counter), node)


MAX_COUNTER = 99_999
# A reading further ahead of the wall clock than this came from a clock set wrong (the team server
# refuses such edits, server/merge.py): more than any time-zone mistake.
MAX_AHEAD_MS = 24 * 3600 * 1000


class HybridLogicalClock:
    """Issues strictly increasing timestamps for one node, merging remote ones on receipt."""

    def __init__(self, node: str, last: Timestamp | None = None, wall=None) -> None:
        self.node = node
        self._wall = wall or (lambda: int(time.time() * 1000))
        self._millis = last.millis if last else 0
        self._counter = last.counter if last else 0
        self._lock = threading.Lock()

    def _forget_a_wrong_date(self, wall: int) -> None:
        """Drop a last reading made while the date was set far ahead, once the date is right again.

        Otherwise the clock would stay there (it never goes back) and every edit until real time caught
        up would be refused by the server; the edits stamped then were refused, so nothing outranks the
        readings made from now on.
        """
        if self._millis - wall > MAX_AHEAD_MS:
            self._millis, self._counter = wall, -1

    def now(self) -> Timestamp:
        with self._lock:
            wall = self._wall()
            self._forget_a_wrong_date(wall)
            if wall > self._millis:
                self._millis, self._counter = wall, 0
            else:
                self._tick()
            return Timestamp(self._millis, self._counter, self.node)

    def stamps(self, n: int) -> list[str]:
        """n strictly increasing readings as text in one go, for bulk writes (same as str(now()) n times)."""
        millis, first = self.reserve(n)
        out: list[str] = []
        suffix = f"-{self.node}"
        while n > 0:
            take = min(n, MAX_COUNTER + 1 - first)
            prefix = f"{millis:015d}-"
            out += [f"{prefix}{counter:05d}{suffix}" for counter in range(first, first + take)]
            millis, first, n = millis + 1, 0, n - take
        return out

    def reserve(self, n: int) -> tuple[int, int]:
        """Take n readings at once without making them: (millis, counter) of the first.

        Reading i (0-based) is millis + (counter + i) // 100,000 with counter (counter + i) % 100,000,
        the rule stamps() follows, so SQL can stamp rows it writes itself (bulk change-log rows).
        """
        with self._lock:
            wall = self._wall()
            self._forget_a_wrong_date(wall)
            if wall > self._millis:
                self._millis, self._counter = wall, -1
            millis, first = self._millis, self._counter + 1
            if first > MAX_COUNTER:
                millis, first = millis + 1, 0  # as _tick() does
            if n <= 0:
                return millis, first
            last = first + n - 1
            self._millis, self._counter = millis + last // (MAX_COUNTER + 1), last % (MAX_COUNTER + 1)
            return millis, first

    def _tick(self) -> None:
        # The text form has five counter digits; past them, borrow the next millisecond (an HLC may
        # run ahead of the wall clock) so that string order stays time order.
        self._counter += 1
        if self._counter > MAX_COUNTER:
            self._millis, self._counter = self._millis + 1, 0

    def receive(self, remote: Timestamp) -> Timestamp:
        """Advance past a timestamp seen from another node."""
        with self._lock:
            wall = self._wall()
            self._forget_a_wrong_date(wall)
            if remote.millis - wall > MAX_AHEAD_MS:  # another device's wrong date is not adopted either
                remote = Timestamp(wall, 0, remote.node)
            top = max(wall, self._millis, remote.millis)
            if top == self._millis == remote.millis:
                self._counter = max(self._counter, remote.counter) + 1
            elif top == self._millis:
                self._counter += 1
            elif top == remote.millis:
                self._counter = remote.counter + 1
            else:
                self._counter = 0
            self._millis = top
            if self._counter > MAX_COUNTER:
                self._millis, self._counter = self._millis + 1, 0
            return Timestamp(self._millis, self._counter, self.node)
