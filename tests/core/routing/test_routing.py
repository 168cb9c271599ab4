"""Routing on small hand-made cases: windows, lunch, driving limit, reasons, priorities, checks, criteria."""

from __future__ import annotations


import pytest

from tests.fakes import FakeHandler, serving

from core.progress import NullProgress
from core.routing import (CachedMatrix, CancelRequested, FirstOf, GreatCircleMatrix, MaxRuntime, NoImprovement,
                          OsrmMatrix, PlaneMatrix, RoutingProblem, RoutingServiceError, Shift, Stop, evaluate, solve)

# A plane where 1 unit = 1 minute of driving, so expected times are easy to reason about.
HOME = (0.0, 0.0)


def day(**kw) -> Shift:
    base = dict(id="mon", start=HOME, start_min=480, end_min=1020)
    base.update(kw)
    return Shift(**base)


def problem(stops, shifts=None, **kw) -> RoutingProblem:
    return RoutingProblem(tuple(stops), tuple(shifts or [day()]), matrix=PlaneMatrix(), **kw)


def test_time_windows_are_respected():
    stops = [Stop("a", 10, 0, 30, windows=((600, 620),)), Stop("b", 0, 10, 30, windows=((480, 500),)),
             Stop("c", 10, 10, 30, windows=((700, 900),))]
    result = solve(problem(stops), stop=MaxRuntime(0.3))
    assert not result.unserved
    route = result.routes[0]
    assert route.stop_ids == ["b", "a", "c"]
    for v in route.visits:
        lo, hi = problem(stops).stop(v.stop_id).windows[0]
        assert lo <= v.start <= hi
        assert v.departure == pytest.approx(v.start + 30)
    assert route.feasible


def test_lunch_break_is_inside_its_window_and_between_visits():
    stops = [Stop(i, (i % 3) * 5, (i // 3) * 5, 45) for i in range(8)]
    sh = day(break_window=(690, 840), break_minutes=30)
    result = solve(problem(stops, [sh]), stop=MaxRuntime(0.5))
    route = result.routes[0]
    assert route.break_start is not None
    assert 690 <= route.break_start and route.break_end <= 840
    assert route.break_end - route.break_start == pytest.approx(30)
    for v in route.visits:
        assert v.departure <= route.break_start + 1e-6 or v.start >= route.break_end - 1e-6
    assert route.back <= 1020 + 1e-6


def test_driving_limit_leaves_far_stops_out_with_the_reason():
    stops = [Stop("near", 20, 0, 30), Stop("far", 200, 0, 30)]
    result = solve(problem(stops, [day(max_drive_minutes=120)]), stop=MaxRuntime(0.3))
    assert result.served == ["near"]
    assert [(u.stop_id, u.reason) for u in result.unserved] == [("far", "over the driving limit")]
    assert result.routes[0].drive_minutes <= 120


def test_unserved_reasons_are_plain():
    stops = [Stop("tuesday-only", 5, 0, 30, windows=((1440 + 480, 1440 + 900),)),
             Stop("evening", 5, 5, 30, windows=((1100, 1200),)),
             Stop("ok", 1, 1, 30)]
    result = solve(problem(stops), stop=MaxRuntime(0.3))
    reasons = {u.stop_id: u.reason for u in result.unserved}
    assert reasons == {"tuesday-only": "closed on the days planned", "evening": "outside working hours"}
    assert result.served == ["ok"]


def test_higher_tiers_win_when_not_everything_fits():
    # Six 120-minute visits at the same spot, an 8-hour day: only four fit.
    stops = [Stop(f"{tier}{i}", 1, 0, 120, priority=p) for i in range(2) for tier, p in (("A", 1), ("B", 2), ("C", 3))]
    result = solve(problem(stops, [day(end_min=480 + 8 * 60 + 5)]), stop=MaxRuntime(0.5))
    assert sorted(result.served) == ["A0", "A1", "B0", "B1"]
    assert sorted(u.stop_id for u in result.unserved) == ["C0", "C1"]
    assert all(u.reason == "no time left in the days planned" for u in result.unserved)


def test_appointment_is_kept_at_its_time():
    stops = [Stop("appt", 10, 0, 60, appointment=600, priority=0), Stop("x", 0, 10, 30)]
    route = solve(problem(stops), stop=MaxRuntime(0.3)).routes[0]
    assert [v.start for v in route.visits if v.stop_id == "appt"] == [pytest.approx(600)]


def test_evaluate_flags_late_arrivals_and_closed_stops():
    stops = [Stop("early", 10, 0, 30, windows=((480, 500),)), Stop("later", 0, 10, 200),
             Stop("tue", 5, 5, 30, windows=((1440 + 480, 1440 + 900),))]
    p = problem(stops)
    good = evaluate(p, {"mon": ["early", "later"]})
    assert good.feasible
    bad = evaluate(p, {"mon": ["later", "early", "tue"]})
    warnings = " ".join(bad.routes[0].warnings)
    assert "early: arrives" in warnings and "late" in warnings
    assert "tue is closed that day" in warnings
    late = {v.stop_id: v.late_minutes for v in bad.routes[0].visits}
    assert late["early"] > 200


def test_pinned_stop_stays_on_its_shift():
    shifts = [day(id="mon"), day(id="tue", start_min=1440 + 480, end_min=1440 + 1020)]
    stops = [Stop("x", 5, 0, 30, shift_id="tue"), Stop("y", 5, 1, 30)]
    result = solve(problem(stops, shifts), stop=MaxRuntime(0.3))
    assert "x" in result.route_for("tue").stop_ids


def test_stop_criteria_compose_and_cancel_returns_the_best_plan_so_far():
    crit = MaxRuntime(100) | NoImprovement(3)
    assert isinstance(crit, FirstOf)
    assert [crit(10) for _ in range(4)] == [False, False, False, True]
    progress = NullProgress()
    progress.cancel()
    stops = [Stop(i, i, i % 7, 10) for i in range(12)]
    result = solve(problem(stops), stop=MaxRuntime(30), progress=progress)
    assert result.stopped_by == "cancelled"
    assert result.runtime < 10
    assert len(result.served) + len(result.unserved) == 12
    assert CancelRequested(None)(0) is False


def test_problem_refuses_bad_input():
    with pytest.raises(ValueError, match="unique"):
        problem([Stop(1, 0, 0), Stop(1, 1, 1)])
    with pytest.raises(ValueError, match="priority"):
        problem([Stop(1, 0, 0, priority=7)])
    with pytest.raises(ValueError, match="ends before"):
        problem([Stop(1, 0, 0, windows=((600, 500),))])


class _FakeOsrm(FakeHandler):
    calls: list[str] = []

    def do_GET(self):  # noqa: N802 (http.server naming)
        _FakeOsrm.calls.append(self.path)
        coords = self.path.split("/table/v1/driving/")[1].split("?")[0].split(";")
        n = len(coords)
        body = {"code": "Ok", "durations": [[0 if i == j else 600.0 * abs(i - j) for j in range(n)] for i in range(n)],
                "distances": [[0 if i == j else 10_000.0 * abs(i - j) for j in range(n)] for i in range(n)]}
        self.reply(body)


@pytest.fixture
def osrm_url():
    with serving(_FakeOsrm) as address:
        yield f"http://{address}"


def test_osrm_table_client_and_cache(osrm_url):
    _FakeOsrm.calls.clear()
    pts = [(30.0, -97.0), (30.1, -97.1), (30.2, -97.2)]
    cached = CachedMatrix(OsrmMatrix(osrm_url, fallback=None))
    m = cached.matrix(pts)
    assert m.duration[0][2] == pytest.approx(20.0)  # 1200 s
    assert m.distance[2][1] == pytest.approx(10_000.0)
    assert "-97.100000,30.100000" in _FakeOsrm.calls[0]  # lon,lat order as OSRM expects
    cached.matrix(list(reversed(pts)))
    assert len(_FakeOsrm.calls) == 1  # served from the cache


def test_osrm_unreachable_falls_back_or_raises():
    pts = [(30.0, -97.0), (30.1, -97.1)]
    dead = "http://127.0.0.1:9"
    with pytest.raises(RoutingServiceError):
        OsrmMatrix(dead, timeout=1, fallback=None).matrix(pts)
    offline = OsrmMatrix(dead, timeout=1).matrix(pts)
    assert offline.distance == GreatCircleMatrix().matrix(pts).distance
