"""Travel times from a routing service are kept in the database per provider: a re-plan after a restart asks nothing."""

from __future__ import annotations

from datetime import date

import pytest

from core.planning import PlanOptions, plan_week
from core.planning.travel_times import matrix_for, stored
from core.routing import GreatCircleMatrix, matrix as matrix_mod
from tests.fakes import FakeHandler, serving

MONDAY = date(2026, 11, 23)


class _Osrm(FakeHandler):
    calls: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server naming)
        _Osrm.calls.append(self.path)
        coords = [tuple(map(float, c.split(","))) for c in self.path.split("/table/v1/driving/")[1].split("?")[0].split(";")]
        pts = [(lat, lon) for lon, lat in coords]
        est = GreatCircleMatrix().matrix(pts)
        # Road times a little slower than the estimate, so stored values are recognisably the service's.
        self.reply({"code": "Ok", "durations": [[60 * 1.1 * x for x in row] for row in est.duration],
                    "distances": [list(row) for row in est.distance]})


@pytest.fixture
def osrm_url():
    _Osrm.calls.clear()
    matrix_mod._shared.clear()
    with serving(_Osrm) as address:
        yield f"http://{address}"
    matrix_mod._shared.clear()


def test_a_replan_after_a_restart_reads_travel_times_from_the_database(demo_store, osrm_url):
    rid = demo_store.conn.execute("SELECT id FROM reps WHERE name = 'Lauren Lewis'").fetchone()[0]
    options = PlanOptions(routing_url=osrm_url)
    first = plan_week(demo_store, rid, MONDAY, 2, seconds=1, options=options)
    assert len(_Osrm.calls) == 1
    rows = demo_store.scalar("SELECT count(*) FROM travel_times WHERE provider = ?", (f"osrm:{osrm_url}",))
    assert rows >= len(first.problem.points()) * 2
    matrix_mod._shared.clear()  # as after closing and reopening the app: nothing in memory
    second = plan_week(demo_store, rid, MONDAY, 2, seconds=1, options=options)
    assert len(_Osrm.calls) == 1  # not asked again
    assert second.matrix.duration[0][2] == pytest.approx(first.matrix.duration[0][2])
    # Kept per provider: the offline estimate (or another server) never reads these.
    assert stored(demo_store, "osrm:http://elsewhere", first.problem.points()) is None


def test_an_unreachable_service_is_not_stored_under_its_name(demo_store):
    matrix_mod._shared.clear()
    pts = [(30.27, -97.74), (30.30, -97.70), (30.20, -97.80)]
    mx = matrix_for(demo_store, pts, routing_url="http://127.0.0.1:9")
    assert mx.duration == GreatCircleMatrix().matrix(pts).duration
    assert demo_store.scalar("SELECT count(*) FROM travel_times") == 0
    matrix_mod._shared.clear()
