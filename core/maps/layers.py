"""What a map shows, read from the database: accounts, reps, territory shapes, routes, heat of potential."""

from __future__ import annotations

import functools
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Sequence

from core.account_value import read_markers, with_account_fields
from core.maps import boundaries, geometry
from core.progress import Progress, check_cancelled
from core.storage.database import Store

COLOR_BY = ("owner", "territory", "tier")
TIER_COLORS = {"A": "#c0392b", "B": "#e67e22", "C": "#2e86c1"}
NONE_COLOR = "#8c8c8c"
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
           "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173", "#3182bd", "#e6550d"]


class MapError(ValueError):
    """A map request that cannot be met (unknown rep or territory, bad option); the message is for users."""


@dataclass(frozen=True)
class MapOptions:
    """What to put on a map."""

    color_by: str = "owner"
    territory: int | str | None = None   # id or name: only its accounts, and it highlighted
    rep: int | str | None = None         # id or name: only their accounts
    account_ids: Sequence[int] | None = None   # highlight these (e.g. from another view)
    route_ids: Sequence[int] | None = None     # show these routes (others are in a hidden layer)
    scenario_id: int | None = None       # highlight the accounts this scenario moves
    states: Sequence[str] | None = None  # base-map states with county lines (default: all holding accounts)
    tile_url: str | None = None          # optional online tile layer (None = offline only)
    tile_attribution: str = ""
    interactive: bool = False            # desktop page: QWebChannel bridge, dragging, drawing
    view: tuple[float, float, int] | None = None  # keep the user's centre and zoom on rebuilds


@dataclass
class Category:
    key: str
    name: str
    color: str
    count: int = 0


@dataclass
class MapData:
    """Everything a page needs, as plain JSON-ready values."""

    categories: list[Category]
    accounts: dict[str, list]                # columns: id, lat, lon, cat, name, tier, pot, city
    reps: list[dict[str, Any]]
    territories: list[dict[str, Any]]
    routes: list[dict[str, Any]]
    states: list[str]
    bounds: tuple[float, float, float, float] | None
    highlight: dict[str, Any] = field(default_factory=dict)
    title: str = ""
    # Counties of the mapped states that no territory's rule covers: drawn with a "No territory" key,
    # so a blank county says whose it is (nobody's) instead of looking like a drawing fault.
    no_territory: list[dict[str, Any]] = field(default_factory=list)


def _resolve(store: Store, table: str, value: int | str | None, what: str) -> dict | None:
    if value is None or value == "":
        return None
    if table == "reps":
        from core.reps import find_rep

        try:
            return find_rep(store, str(value))
        except KeyError as exc:
            raise MapError(str(exc.args[0]) + " (give the rep's id, email or name)") from None
    extra = " AND role = 'rep'" if table == "reps" and not str(value).isdigit() else ""
    if isinstance(value, int) or str(value).isdigit():
        row = store.conn.execute(f"SELECT * FROM {table} WHERE id = ? AND deleted_at IS NULL", (int(value),)).fetchone()
    else:
        rows = store.conn.execute(
            f"SELECT * FROM {table} WHERE name = ? COLLATE NOCASE AND deleted_at IS NULL{extra}", (str(value),)).fetchall()
        if len(rows) > 1:
            raise MapError(f"{what} {value!r} matches {len(rows)} {table}; use its id")
        row = rows[0] if rows else None
    if row is None:
        raise MapError(f"no {what} {value!r} (give its id or exact name)")
    return dict(row)


def _rep_colors(reps: list[dict]) -> dict[int, str]:
    return {r["id"]: r.get("color") or PALETTE[i % len(PALETTE)] for i, r in enumerate(reps)}


def load_map_data(store: Store, options: MapOptions = MapOptions(), progress: Progress | None = None) -> MapData:
    """Read what the map shows; raises MapError for an unknown rep/territory or colour choice."""
    if options.color_by not in COLOR_BY:
        raise MapError(f"colour by must be one of {', '.join(COLOR_BY)} (got {options.color_by!r})")
    territory = _resolve(store, "territories", options.territory, "territory")
    rep = _resolve(store, "reps", options.rep, "rep")
    check_cancelled(progress)

    reps = [dict(r) for r in store.conn.execute(
        "SELECT id, name, role, color, home_lat, home_lon, home_city, home_state FROM reps "
        "WHERE deleted_at IS NULL ORDER BY role <> 'rep', name")]
    rep_color = _rep_colors(reps)
    terr_rows = [dict(r) for r in store.conn.execute(
        "SELECT t.id, t.name, t.kind, t.level, t.rule, t.precedence, t.color, t.owner_id, r.name AS owner "
        "FROM territories t LEFT JOIN reps r ON r.id = t.owner_id WHERE t.deleted_at IS NULL "
        "ORDER BY t.precedence, t.name")]
    for i, t in enumerate(terr_rows):
        t["color"] = t["color"] or PALETTE[i % len(PALETTE)]

    categories: dict[str, Category] = {}
    if options.color_by == "owner":
        for r in reps:
            categories[str(r["id"])] = Category(str(r["id"]), r["name"], rep_color[r["id"]])
        categories[""] = Category("", "Unassigned", NONE_COLOR)
        key_col = "owner_id"
    elif options.color_by == "territory":
        for t in terr_rows:
            categories[str(t["id"])] = Category(str(t["id"]), t["name"], t["color"])
        categories[""] = Category("", "No territory", NONE_COLOR)
        key_col = "territory_id"
    else:
        for tier, color in TIER_COLORS.items():
            categories[tier] = Category(tier, f"Tier {tier}", color)
        categories[""] = Category("", "No tier", NONE_COLOR)
        key_col = "tier"
    order = {k: i for i, k in enumerate(categories)}

    cols: dict[str, list] = {k: [] for k in ("id", "lat", "lon", "cat", "name", "tier", "pot", "city")}
    state_counts: Counter[str] = Counter()
    batches = read_markers(store, owner_id=rep["id"] if rep else None,
                           territory_id=territory["id"] if territory else None)
    key_index = {"owner_id": 4, "territory_id": 5, "tier": 6}[key_col]
    ids, lats, lons, cats, names = cols["id"], cols["lat"], cols["lon"], cols["cat"], cols["name"]
    tiers, pots, cities = cols["tier"], cols["pot"], cols["city"]
    counts: Counter[str] = Counter()
    for rows in batches:
        check_cancelled(progress)
        for aid, name, lat, lon, *rest in rows:
            value = rest[key_index - 4]
            key = "" if value is None else str(value)
            if key not in order:
                # An owner/territory that was deleted: still show the account, as "none".
                key = ""
            counts[key] += 1
            ids.append(aid)
            lats.append(round(lat, 5))
            lons.append(round(lon, 5))
            cats.append(order[key])
            names.append(name)
            tiers.append(rest[2] or "")
            pots.append((rest[3] or 0) // 100)
            cities.append(rest[4] or "")
            if rest[5]:
                state_counts[rest[5]] += 1
        if progress is not None:
            progress.update(len(cols["id"]), 0, "reading accounts")

    for key, n in counts.items():
        categories[key].count = n
    states = list(options.states or [])
    if not states:
        # County lines for every state that holds accounts, most accounts first (they are simplified
        # and drawn only when in view, so a nationwide book stays quick).
        states = [s for s, _n in state_counts.most_common() if s in boundaries.STATE_FIPS]
        if not states and territory:
            states = _rule_states(territory)
    states = [boundaries.state_code(s) for s in states]

    visible_terr = [t for t in terr_rows if territory is None or t["id"] == territory["id"]]
    territories = [_territory_shape(t) for t in visible_terr]
    check_cancelled(progress)
    routes = _routes(store, rep_color, rep["id"] if rep else None)

    frame = geometry.robust_bounds(list(zip(cols["lat"], cols["lon"])))
    pts = [(frame[0], frame[1]), (frame[2], frame[3])] if frame else []
    if territory:
        shaped = next((t for t in territories if t["id"] == territory["id"]), None)
        if shaped and shaped.get("bounds"):
            s, w, n, e = shaped["bounds"]
            pts += [(s, w), (n, e)]
    if rep and rep.get("home_lat") is not None:
        pts.append((rep["home_lat"], rep["home_lon"]))
    if not pts:
        for s in states:
            b = boundaries.bounds(boundaries.states_geojson([s]))
            if b:
                pts += [(b[0], b[1]), (b[2], b[3])]
    highlight = _highlight(store, options)
    shown_reps = [r for r in reps if r["home_lat"] is not None and (rep is None or r["id"] == rep["id"])]
    labelled: set[str] = set()
    for r in shown_reps:
        r["color"] = rep_color[r["id"]]
        # Home badges double as the map's city names: a second home in the same city (the manager's
        # beside a rep's) is labelled with the person's name, never with the city again.
        city = (r.get("home_city") or "").strip()
        r["label"] = city if city and city.lower() not in labelled else r["name"]
        labelled.add(city.lower())
    title = {"owner": "Accounts by owner", "territory": "Accounts by territory", "tier": "Accounts by tier"}[
        options.color_by]
    if territory:
        title += f" · {territory['name']}"
    if rep:
        title += f" · {rep['name']}"
    return MapData(
        categories=list(categories.values()), accounts=cols, reps=shown_reps, territories=territories,
        routes=routes, states=states, bounds=geometry.bounds(pts), highlight=highlight, title=title,
        no_territory=no_territory_counties(terr_rows, states) if territory is None else [])


def no_territory_counties(territories: list[dict[str, Any]], states: Sequence[str]) -> list[dict[str, Any]]:
    """Counties of `states` inside the area the geographic territories divide up, that none of them covers.

    Only states where some leaf geographic territory names counties count (a team working by ZIP
    or by industry has no county gaps to show); a territory covering a whole state covers all of it.
    Returns [{"name", "state", "geometry"}], geometry as GeoJSON.
    """
    covered: dict[str, set[str]] = defaultdict(set)
    whole: set[str] = set()
    for t in territories:
        if t["kind"] != "geographic" or t.get("level", "territory") != "territory":
            continue
        try:
            rule = json.loads(t.get("rule") or "{}")
        except json.JSONDecodeError:
            continue
        if not isinstance(rule, dict) or rule.get("overlay"):
            continue
        rule_states = [str(x).upper() for x in (rule.get("states") or [])] + (
            [str(rule["state"]).upper()] if rule.get("state") else [])
        if not any(rule.get(k) for k in ("counties", "zips", "zip3", "polygon")):
            whole.update(rule_states)
        for st in rule_states:
            covered[st].update(boundaries.normalise_county(str(c)) for c in rule.get("counties") or [])
    out = []
    topo = boundaries.atlas()
    for st in states:
        if st in whole or not covered.get(st):
            continue
        for county in boundaries.counties(st):
            if boundaries.normalise_county(county.name) in covered[st]:
                continue
            geom = topo.geometry(county.geom)
            if geom:
                out.append({"name": county.name, "state": st, "geometry": geom})
    return out


def _rule_states(t: dict) -> list[str]:
    try:
        rule = json.loads(t.get("rule") or "{}")
    except json.JSONDecodeError:
        return []
    states = list(rule.get("states") or [])
    if rule.get("state"):
        states.append(rule["state"])
    return [s for s in states if str(s).upper() in boundaries.STATE_FIPS]


@functools.lru_cache(maxsize=1)
def _zip_centroids() -> dict[str, tuple[float, float]]:
    import zipcodes

    out = {}
    for z in zipcodes.list_all():
        if z.get("lat") and z.get("long"):
            out[z["zip_code"]] = (float(z["lat"]), float(z["long"]))
    return out


def territory_shape(territory: dict[str, Any]) -> dict[str, Any]:
    """A territory as map shapes: fill polygons ([[lat, lon]...] rings), outline lines, bounds.

    Geographic rules become shapes: counties and states from the bundled atlas, ZIP and ZIP3
    areas as convex hulls of ZIP centroids (an approximation; no ZIP polygons are bundled), and
    drawn polygons as they are. Other kinds get no shape; they show through account colours.
    """
    return _territory_shape(territory)


def _territory_shape(t: dict[str, Any]) -> dict[str, Any]:
    out = {"id": t["id"], "name": t["name"], "kind": t["kind"], "level": t.get("level", "territory"),
           "color": t["color"], "owner": t.get("owner") or "", "fill": [], "outline": [], "bounds": None,
           "approximate": False, "unmatched": []}
    if t["kind"] != "geographic":
        return out
    try:
        rule = json.loads(t.get("rule") or "{}")
    except json.JSONDecodeError:
        return out
    if not isinstance(rule, dict):
        return out
    fills: list[Any] = []     # GeoJSON geometries
    lines: list[list[list[float]]] = []   # [lon, lat] lines
    topo_geoms = []
    # As in core.territories.rules: state(s) restrict, area keys (counties, zips, zip3, polygon)
    # are alternatives inside them; a rule with no area key covers its whole state(s).
    rule_states = [str(x) for x in (rule.get("states") or [])]
    if rule.get("state"):
        rule_states = [str(rule["state"])]
    has_area = any(rule.get(k) for k in ("counties", "zips", "zip3", "polygon"))
    if rule.get("counties"):
        lookups = []
        for st in rule_states:
            try:
                lookups.append(boundaries.county_lookup(st))
            except (ValueError, KeyError):
                out["unmatched"].append(st)
        topo = boundaries.atlas()
        for name in rule["counties"]:
            key = boundaries.normalise_county(str(name))
            found = [lk[key] for lk in lookups if key in lk]
            if not found:
                out["unmatched"].append(name)
            for county in found:
                topo_geoms.append(county.geom)
                geom = topo.geometry(county.geom)
                if geom:
                    fills.append(geom)
    if not has_area:
        for st in rule_states:
            try:
                g = boundaries.state_geometry(st)
            except (ValueError, KeyError):
                out["unmatched"].append(st)
                continue
            topo_geoms.append(g)
            geom = boundaries.atlas().geometry(g)
            if geom:
                fills.append(geom)
    if topo_geoms:
        lines += boundaries.outline(topo_geoms)
    zip_groups: dict[str, list[tuple[float, float]]] = defaultdict(list)
    if rule.get("zips") or rule.get("zip3"):
        centroids = _zip_centroids()
        for z in rule.get("zips") or []:
            z = str(z).zfill(5)[:5]
            if z in centroids:
                zip_groups[z[:3]].append(centroids[z])
            else:
                out["unmatched"].append(z)
        wanted3 = {str(z).zfill(3)[:3] for z in rule.get("zip3") or []}
        if wanted3:
            for z, point in centroids.items():
                if z[:3] in wanted3:
                    zip_groups[z[:3]].append(point)
            out["unmatched"] += sorted(w for w in wanted3 if w not in zip_groups)
        out["approximate"] = True
    for _z3, points in sorted(zip_groups.items()):
        ring = [[lon, lat] for lat, lon in geometry.padded_area(points)]
        ring.append(ring[0])
        fills.append({"type": "Polygon", "coordinates": [ring]})
        lines.append(ring)
    poly = rule.get("polygon")
    if isinstance(poly, list) and len(poly) >= 3:
        try:
            ring = [[float(p[1]), float(p[0])] for p in poly]
        except (TypeError, ValueError, IndexError):
            ring = []
        if ring:
            ring.append(ring[0])
            fills.append({"type": "Polygon", "coordinates": [ring]})
            lines.append(ring)
    out["fill"] = fills
    out["outline"] = lines
    pts = [(p[1], p[0]) for line in lines for p in line]
    out["bounds"] = geometry.bounds(pts)
    return out


def _routes(store: Store, rep_color: dict[int, str], rep_id: int | None) -> list[dict[str, Any]]:
    """Planned routes with their ordered stops (whatever rows the routing feature wrote)."""
    params: list[Any] = []
    where = "r.deleted_at IS NULL"
    if rep_id is not None:
        where += " AND r.rep_id = ?"
        params.append(rep_id)
    routes = {row["id"]: {"id": row["id"], "rep_id": row["rep_id"], "rep": row["rep"] or "", "day": row["day"],
                          "status": row["status"], "color": rep_color.get(row["rep_id"], NONE_COLOR),
                          "distance_m": row["distance_m"], "start": None, "end": None, "stops": []}
              for row in store.conn.execute(
                  "SELECT r.id, r.rep_id, r.day, r.status, r.distance_m, r.start_lat, r.start_lon, r.end_lat, "
                  "r.end_lon, p.name AS rep FROM routes r LEFT JOIN reps p ON p.id = r.rep_id "
                  f"WHERE {where} ORDER BY r.day, r.rep_id", params)}
    if not routes:
        return []
    for row in store.conn.execute(
            "SELECT r.id, r.start_lat, r.start_lon, r.end_lat, r.end_lon FROM routes r WHERE " + where, params):
        if row["start_lat"] is not None:
            routes[row["id"]]["start"] = [row["start_lat"], row["start_lon"]]
        if row["end_lat"] is not None:
            routes[row["id"]]["end"] = [row["end_lat"], row["end_lon"]]
    stops = with_account_fields(store, store.conn.execute(
        "SELECT s.route_id, s.seq, s.account_id, s.arrive_at FROM route_stops s JOIN routes r ON r.id = s.route_id "
        f"WHERE s.deleted_at IS NULL AND {where} ORDER BY s.route_id, s.seq", params), ("name", "lat", "lon"))
    for row in stops:
        if row["lat"] is None or row["route_id"] not in routes:
            continue
        routes[row["route_id"]]["stops"].append({
            "seq": row["seq"], "account_id": row["account_id"], "name": row["name"] or "",
            "lat": row["lat"], "lon": row["lon"], "arrive_at": row["arrive_at"] or ""})
    return [r for r in routes.values() if r["stops"]]


def _highlight(store: Store, options: MapOptions) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if options.account_ids:
        out["account_ids"] = [int(a) for a in options.account_ids]
    if options.route_ids:
        out["route_ids"] = [int(r) for r in options.route_ids]
    if options.scenario_id is not None:
        out["account_ids"] = out.get("account_ids", []) + scenario_account_ids(store, options.scenario_id)
    return out


def scenario_account_ids(store: Store, scenario_id: int) -> list[int]:
    """Accounts a balancing scenario moves (from scenario_moves)."""
    return [r[0] for r in store.conn.execute(
        "SELECT DISTINCT account_id FROM scenario_moves WHERE scenario_id = ? AND deleted_at IS NULL "
        "ORDER BY account_id", (scenario_id,))]


def rep_account_ids(store: Store, rep_id: int) -> list[int]:
    """Accounts a rep owns."""
    return [row[0] for rows in read_markers(store, owner_id=rep_id) for row in rows]


def accounts_in_polygon(store: Store, polygon: Sequence[Sequence[float]]) -> list[int]:
    """Ids of located accounts inside a polygon [[lat, lon], ...] (e.g. one drawn on the map)."""
    if len(polygon) < 3:
        return []
    s, w, n, e = geometry.bounds((p[0], p[1]) for p in polygon)  # type: ignore[misc]
    return [aid for rows in read_markers(store, bounds=(s, w, n, e)) for aid, _name, lat, lon, *_ in rows
            if geometry.point_in_polygon(lat, lon, polygon)]


def territory_choices(store: Store) -> list[dict[str, Any]]:
    """Territories a user can put accounts in (id, name, kind), for menus."""
    return [dict(r) for r in store.conn.execute(
        "SELECT id, name, kind FROM territories WHERE deleted_at IS NULL AND level = 'territory' ORDER BY name")]
