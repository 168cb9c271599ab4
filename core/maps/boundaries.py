"""US state and county boundaries from the bundled us-atlas TopoJSON, decoded to GeoJSON per state."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Iterable

import resources

ATLAS_FILE = ("boundaries", "counties-10m.json")
# Five decimals is about a metre: far finer than the 1:10M source, and it keeps pages small.
DECIMALS = 4

STATE_FIPS = {
    "AL": "01", "AK": "02", "AZ": "04", "AR": "05", "CA": "06", "CO": "08", "CT": "09", "DE": "10",
    "DC": "11", "FL": "12", "GA": "13", "HI": "15", "ID": "16", "IL": "17", "IN": "18", "IA": "19",
    "KS": "20", "KY": "21", "LA": "22", "ME": "23", "MD": "24", "MA": "25", "MI": "26", "MN": "27",
    "MS": "28", "MO": "29", "MT": "30", "NE": "31", "NV": "32", "NH": "33", "NJ": "34", "NM": "35",
    "NY": "36", "NC": "37", "ND": "38", "OH": "39", "OK": "40", "OR": "41", "PA": "42", "RI": "44",
    "SC": "45", "SD": "46", "TN": "47", "TX": "48", "UT": "49", "VT": "50", "VA": "51", "WA": "53",
    "WV": "54", "WI": "55", "WY": "56", "AS": "60", "GU": "66", "MP": "69", "PR": "72", "VI": "78",
}
STATE_BY_FIPS = {v: k for k, v in STATE_FIPS.items()}


class Topology:
    """A decoded TopoJSON topology: absolute arc coordinates and the geometries of each object."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.objects = data["objects"]
        transform = data.get("transform")
        self.arcs = [self._decode_arc(arc, transform) for arc in data["arcs"]]

    @staticmethod
    def _decode_arc(arc: list[list[float]], transform: dict | None) -> list[tuple[float, float]]:
        if not transform:
            return [(p[0], p[1]) for p in arc]
        (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
        x = y = 0
        out = []
        # Quantized arcs are delta-encoded: each position is the offset from the previous one.
        for p in arc:
            x += p[0]
            y += p[1]
            out.append((round(x * sx + tx, DECIMALS), round(y * sy + ty, DECIMALS)))
        return out

    def ring(self, arc_indexes: Iterable[int]) -> list[list[float]]:
        """Join arcs into one ring; a negative index (~i) means arc i reversed."""
        points: list[list[float]] = []
        for index in arc_indexes:
            arc = self.arcs[~index][::-1] if index < 0 else self.arcs[index]
            # Consecutive arcs share their joining point; keep it once.
            start = 1 if points else 0
            points.extend([x, y] for x, y in arc[start:])
        return points

    def geometry(self, geom: dict[str, Any]) -> dict[str, Any] | None:
        """One TopoJSON geometry as a GeoJSON geometry (None for a null geometry)."""
        kind = geom.get("type")
        if kind == "Polygon":
            return {"type": "Polygon", "coordinates": [self.ring(r) for r in geom["arcs"]]}
        if kind == "MultiPolygon":
            return {"type": "MultiPolygon",
                    "coordinates": [[self.ring(r) for r in poly] for poly in geom["arcs"]]}
        return None

    def outline(self, geoms: Iterable[dict[str, Any]]) -> list[list[list[float]]]:
        """The outer boundary of several polygons as line strings: arcs used by exactly one of them.

        Arcs shared by two of the chosen polygons lie inside the union, so leaving them out draws
        a territory's outline without computing a polygon union.
        """
        uses = self.arc_uses(geoms)
        return [[[x, y] for x, y in self.arcs[i]] for i, n in sorted(uses.items()) if n == 1]

    @staticmethod
    def arc_uses(geoms: Iterable[dict[str, Any]]) -> dict[int, int]:
        """How many of these polygons' rings use each arc (an arc shared by two neighbours counts 2)."""
        uses: dict[int, int] = {}
        for geom in geoms:
            polys = geom["arcs"] if geom.get("type") == "MultiPolygon" else [geom.get("arcs", [])]
            for poly in polys:
                for ring in poly:
                    for index in ring:
                        key = ~index if index < 0 else index
                        uses[key] = uses.get(key, 0) + 1
        return uses


@functools.lru_cache(maxsize=1)
def atlas() -> Topology:
    """The bundled us-atlas topology (decoded once per process)."""
    with open(resources.path(*ATLAS_FILE), encoding="utf-8") as fh:
        return Topology(json.load(fh))


@dataclass(frozen=True)
class County:
    fips: str
    name: str
    state: str
    geom: dict[str, Any]  # the TopoJSON geometry (arcs), for outlines


def normalise_county(name: str) -> str:
    """'Harris County' / 'harris' / 'St. Mary Parish' -> a key that matches us-atlas names."""
    key = name.strip().lower().replace(".", "").replace("saint ", "st ")
    for suffix in (" county", " parish", " borough", " census area", " municipality", " city and borough"):
        if key.endswith(suffix):
            key = key[: -len(suffix)]
    return key.strip()


def state_code(value: str) -> str:
    """Two-letter code for a state given as code or FIPS; raises ValueError for anything else."""
    value = str(value).strip().upper()
    if value in STATE_FIPS:
        return value
    if value.zfill(2) in STATE_BY_FIPS:
        return STATE_BY_FIPS[value.zfill(2)]
    raise ValueError(f"unknown US state {value!r}; use the two-letter code, e.g. TX")


def counties(state: str) -> list[County]:
    """Every county of a state, with its us-atlas geometry."""
    fips = STATE_FIPS[state_code(state)]
    topo = atlas()
    return [County(g["id"], g["properties"]["name"], state_code(state), g)
            for g in topo.objects["counties"]["geometries"] if str(g.get("id", "")).startswith(fips)]


def county_lookup(state: str) -> dict[str, County]:
    """Counties of a state keyed by normalised name."""
    return {normalise_county(c.name): c for c in counties(state)}


def counties_geojson(state: str) -> dict[str, Any]:
    """The counties of one state as a GeoJSON FeatureCollection (properties: fips, name)."""
    topo = atlas()
    features = []
    for c in counties(state):
        geometry = topo.geometry(c.geom)
        if geometry:
            features.append({"type": "Feature", "id": c.fips, "properties": {"fips": c.fips, "name": c.name},
                             "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


def states_geojson(codes: Iterable[str] | None = None) -> dict[str, Any]:
    """US states (all, or the given codes) as a GeoJSON FeatureCollection (properties: code, name)."""
    wanted = {STATE_FIPS[state_code(c)] for c in codes} if codes is not None else None
    topo = atlas()
    features = []
    for g in topo.objects["states"]["geometries"]:
        fips = str(g.get("id", ""))
        if wanted is not None and fips not in wanted:
            continue
        geometry = topo.geometry(g)
        if geometry:
            features.append({"type": "Feature", "id": fips,
                             "properties": {"code": STATE_BY_FIPS.get(fips, fips), "name": g["properties"]["name"]},
                             "geometry": geometry})
    return {"type": "FeatureCollection", "features": features}


@functools.lru_cache(maxsize=1)
def state_bounds() -> dict[str, tuple[float, float, float, float]]:
    """(south, west, north, east) of every state, by two-letter code."""
    out = {}
    for f in states_geojson()["features"]:
        b = bounds({"features": [f]})
        if b:
            out[f["properties"]["code"]] = b
    return out


def state_geometry(state: str) -> dict[str, Any]:
    """The TopoJSON geometry of one state (for outlines)."""
    fips = STATE_FIPS[state_code(state)]
    for g in atlas().objects["states"]["geometries"]:
        if g.get("id") == fips:
            return g
    raise ValueError(f"no boundary for state {state!r}")


def outline(geoms: Iterable[dict[str, Any]]) -> list[list[list[float]]]:
    """Outer boundary lines ([lon, lat] points) of a set of county or state geometries."""
    return atlas().outline(geoms)


def bounds(geojson: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """(south, west, north, east) of a FeatureCollection, or None when empty."""
    xs: list[float] = []
    ys: list[float] = []

    def walk(coords: Any) -> None:
        if coords and isinstance(coords[0], (int, float)):
            xs.append(coords[0])
            ys.append(coords[1])
        else:
            for c in coords:
                walk(c)

    for f in geojson.get("features", []):
        walk(f["geometry"]["coordinates"])
    if not xs:
        return None
    return min(ys), min(xs), max(ys), max(xs)


# Degrees; about 1 km. The 1:10M source is coarser than that between vertices, so county lines
# keep their shape at state and county zoom while a 50-state page stays small.
COUNTY_TOLERANCE = 0.01


@functools.lru_cache(maxsize=64)
def county_lines(state: str, tolerance: float = COUNTY_TOLERANCE) -> tuple[tuple[float, ...], ...]:
    """The lines between a state's counties, simplified, as flat (lat, lon, lat, lon, ...) tuples.

    Only arcs two of the state's counties share are kept: the state's own border is drawn by the
    state layer, and each inner line is drawn once. Arcs are simplified one by one (their ends
    stay put), so neighbouring lines still meet.
    """
    from shapely import LineString

    topo = atlas()
    uses = topo.arc_uses(c.geom for c in counties(state))
    out = []
    for i, n in sorted(uses.items()):
        if n < 2:
            continue
        arc = topo.arcs[i]
        if len(arc) > 2 and tolerance > 0:
            arc = list(LineString(arc).simplify(tolerance, preserve_topology=False).coords)
        flat: list[float] = []
        for x, y in arc:
            flat += (round(y, 3), round(x, 3))
        out.append(tuple(flat))
    return tuple(out)
