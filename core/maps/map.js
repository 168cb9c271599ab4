/* FieldAtlas map layers: offline base, clustered accounts, reps, territories, routes, heat; desktop bridge. */
var FieldAtlasMap = (function () {
  'use strict';
  var FA = {map: null, data: null, ready: false, bridge: null, markers: {}, index: {}, groups: {},
            pending: [], drawn: null};

  function esc(s) {
    return String(s == null ? '' : s).replace(/[&<>"']/g, function (c) {
      return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;'}[c];
    });
  }
  function money(v) { return '$' + Math.round(v).toLocaleString('en-US'); }
  function short(n) {
    if (n >= 10000) return Math.round(n / 1000) + 'k';
    if (n >= 1000) return (n / 1000).toFixed(1) + 'k';
    return String(n);
  }
  function swap(lines) {  // [lon, lat] -> [lat, lon]
    return lines.map(function (line) { return line.map(function (p) { return [p[1], p[0]]; }); });
  }

  function clusterIcon(cluster) {
    var children = cluster.getAllChildMarkers(), counts = {}, i;
    for (i = 0; i < children.length; i++) {
      var c = children[i].options.cat;
      counts[c] = (counts[c] || 0) + 1;
    }
    var total = children.length, start = 0, stops = [];
    Object.keys(counts).sort(function (a, b) { return counts[b] - counts[a]; }).forEach(function (k) {
      var end = start + counts[k] / total * 360;
      stops.push(FA.data.categories[k].color + ' ' + start.toFixed(1) + 'deg ' + end.toFixed(1) + 'deg');
      start = end;
    });
    var size = total < 10 ? 30 : total < 100 ? 36 : total < 1000 ? 42 : 50;
    return L.divIcon({
      html: '<div class="fmap-cluster" style="width:' + size + 'px;height:' + size + 'px;background:conic-gradient(' +
            stops.join(',') + ')"><span>' + short(total) + '</span></div>',
      className: 'fmap-cluster-icon', iconSize: L.point(size, size)});
  }

  function accountPopup(i) {
    var A = FA.data.accounts, cat = FA.data.categories[A.cat[i]];
    return '<div class="fmap-popup"><b>' + esc(A.name[i]) + '</b><br>' + esc(A.city[i]) +
      (A.tier[i] ? ' · Tier ' + esc(A.tier[i]) : '') + '<br>Potential ' + money(A.pot[i]) +
      '<br><span class="fmap-swatch" style="background:' + cat.color + '"></span>' + esc(cat.name) + '</div>';
  }

  function onMarkerClick(e) {
    var i = e.target.options.idx, id = FA.data.accounts.id[i];
    L.popup({offset: [0, -4]}).setLatLng(e.target.getLatLng()).setContent(accountPopup(i)).openOn(FA.map);
    if (FA.bridge) FA.bridge.account_clicked(id);
  }

  function onDragEnd(e) {
    var i = e.target.options.idx, p = e.target.getLatLng();
    if (FA.bridge) FA.bridge.account_moved(FA.data.accounts.id[i], p.lat, p.lng);
  }

  function addBase(d) {
    var map = FA.map;
    map.createPane('basePane').style.zIndex = 250;
    var inData = {};
    d.states.forEach(function (s) { inData[s] = true; });
    FA.groups.states = L.geoJSON(d.base.states, {pane: 'basePane', interactive: false,
                                                   style: function (f) {
      return {color: '#7d7d7d', weight: 1.2, fillColor: inData[f.properties.code] ? '#f7f5ef' : '#e9e6dc',
              fillOpacity: 1};
    }}).addTo(map);
    // County lines: one path per state, built the first time the state is in view.
    FA.groups.counties = L.layerGroup().addTo(map);
    FA.countyLayers = {};
    FA.stateBounds = {};
    FA.groups.states.eachLayer(function (layer) { FA.stateBounds[layer.feature.properties.code] = layer.getBounds(); });
    FA.groups.stateLines = L.geoJSON(d.base.states, {pane: 'basePane', interactive: false,
      style: {color: '#6b6b6b', weight: 1.6, fill: false}}).addTo(map);
  }

  var COUNTY_MIN_ZOOM = 5;   // below it (the whole country) county lines would only be clutter

  function countyLayer(code) {
    var layer = FA.countyLayers[code];
    if (!layer) {
      var lines = (FA.data.base.counties[code] || []).map(function (flat) {
        var pts = new Array(flat.length / 2);
        for (var k = 0; k < flat.length; k += 2) pts[k / 2] = [flat[k], flat[k + 1]];
        return pts;
      });
      layer = FA.countyLayers[code] = L.polyline(lines, {pane: 'basePane', interactive: false,
        color: '#a9a9a9', weight: 0.6, smoothFactor: 1});
    }
    return layer;
  }

  FA.updateCounties = function () {
    var view = FA.map.getBounds(), near = FA.map.getZoom() >= COUNTY_MIN_ZOOM, shown = [];
    Object.keys(FA.data.base.counties || {}).forEach(function (code) {
      var b = FA.stateBounds[code], want = near && b && view.intersects(b);
      if (want) { FA.groups.counties.addLayer(countyLayer(code)); shown.push(code); }
      else if (FA.countyLayers[code]) FA.groups.counties.removeLayer(FA.countyLayers[code]);
    });
    FA.countiesShown = shown;
    return shown;
  };

  function countyName(g) {
    return g.name + (g.state === 'LA' ? ' Parish' : g.state === 'AK' ? '' : ' County') + ', ' + g.state;
  }

  function addTerritories(d) {
    var group = L.layerGroup();
    FA.territories = {};
    // Counties no territory covers: white with a dashed edge and a "No territory" legend key, so a
    // blank county reads as nobody's rather than as a map that failed to draw.
    if (d.noTerritory && d.noTerritory.length) {
      group.addLayer(L.geoJSON({type: 'FeatureCollection', features: d.noTerritory.map(function (g) {
        return {type: 'Feature', properties: {name: countyName(g)}, geometry: g.geometry};
      })}, {style: {color: '#8a8a8a', weight: 1, dashArray: '3 3', fillColor: '#ffffff', fillOpacity: 0.9},
            onEachFeature: function (f, layer) {
              layer.bindTooltip(esc(f.properties.name) + ': no territory', {sticky: true});
            }}));
    }
    d.territories.forEach(function (t) {
      if (!t.outline.length && !t.fill.length) return;
      var region = t.level === 'region';
      var parts = [];
      if (t.fill.length && !region) {
        parts.push(L.geoJSON({type: 'FeatureCollection', features: t.fill.map(function (g) {
          return {type: 'Feature', properties: {}, geometry: g};
        })}, {interactive: false, style: {stroke: false, fillColor: t.color, fillOpacity: 0.16}}));
      }
      var line = L.polyline(swap(t.outline), {color: region ? '#333' : t.color, weight: region ? 2 : 2.6,
        opacity: 0.95, dashArray: region ? '6 5' : null});
      line.bindTooltip(esc(t.name) + (t.owner ? ' · ' + esc(t.owner) : '') + (t.approximate ? ' (approximate area)' : ''),
                       {sticky: true});
      parts.push(line);
      var layer = L.featureGroup(parts);
      FA.territories[t.id] = {layer: layer, line: line, data: t};
      group.addLayer(layer);
    });
    return group;
  }

  function addRoutes(d) {
    // Above the account clusters: a planned day must not hide under the pins it visits.
    if (!FA.map.getPane('routePane')) FA.map.createPane('routePane').style.zIndex = 650;
    var group = L.layerGroup();
    FA.routes = {};
    d.routes.forEach(function (r) {
      var pts = r.stops.map(function (s) { return [s.lat, s.lon]; });
      if (r.start) pts.unshift(r.start);
      if (r.end) pts.push(r.end);
      var parts = [L.polyline(pts, {pane: 'routePane', color: r.color, weight: 4, opacity: 0.9})
        .bindTooltip(esc(r.rep) + ' · ' + esc(r.day) + ' · ' + r.stops.length + ' stops', {sticky: true})];
      r.stops.forEach(function (s) {
        parts.push(L.marker([s.lat, s.lon], {pane: 'routePane', keyboard: false, icon: L.divIcon({className: 'fmap-stop-icon',
          html: '<div class="fmap-stop" style="border-color:' + r.color + '">' + s.seq + '</div>',
          iconSize: [22, 22], iconAnchor: [11, 11]})}).bindTooltip(
            s.seq + '. ' + esc(s.name) + (s.arrive_at ? ' · ' + esc(s.arrive_at.slice(11, 16)) : '')));
      });
      var layer = L.featureGroup(parts);
      FA.routes[r.id] = layer;
      group.addLayer(layer);
    });
    return group;
  }

  function addReps(d) {
    // Home badges live in their own pane under the markers: a cluster's count is data and must
    // never hide under a city name. placeLabels() then moves each badge to the side of its home
    // that covers the fewest clusters.
    if (!FA.map.getPane('homePane')) FA.map.createPane('homePane').style.zIndex = 590;
    var group = L.layerGroup();
    FA.homes = [];
    d.reps.forEach(function (r) {
      var html = '<div class="fmap-home" style="border-color:' + r.color + '"><i class="fa fa-house" style="color:' +
                 r.color + '"></i>' + (r.label ? '<span>' + esc(r.label) + '</span>' : '') + '</div>';
      var m = L.marker([r.home_lat, r.home_lon], {pane: 'homePane', keyboard: false, icon: L.divIcon({
        className: 'fmap-home-icon', html: html, iconSize: null, iconAnchor: [0, 0]})})
        .bindTooltip('<b>' + esc(r.name) + '</b><br>Home base' + (r.home_city ? ': ' + esc(r.home_city) : ''))
        .addTo(group);
      FA.homes.push(m);
    });
    return group;
  }

  function rectOf(el) { var b = el.getBoundingClientRect(); return {l: b.left, t: b.top, r: b.right, b: b.bottom}; }
  function overlap(a, b) {
    var w = Math.min(a.r, b.r) - Math.max(a.l, b.l), h = Math.min(a.b, b.b) - Math.max(a.t, b.t);
    return w > 0 && h > 0 ? w * h : 0;
  }
  function obstacles() {
    // What a label must not cover: every drawn cluster ring and pin, and the map's own controls.
    var out = [];
    document.querySelectorAll('.fmap-cluster, .fmap-dot, .fmap-stop, .leaflet-control').forEach(function (el) {
      out.push(rectOf(el));
    });
    return out;
  }

  // Candidate spots for a badge of w x h around its home point (offsets of the badge's top-left):
  // close in first, then two wider rings; the first spot with the least overlap wins.
  function spots(w, h) {
    var out = [];
    [[14, 12], [34, 34], [60, 56]].forEach(function (g) {
      var dx = g[0], dy = g[1];
      out.push([dx, -h - dy], [-w - dx, -h - dy], [dx, dy], [-w - dx, dy], [-w / 2, -h - dy - 8], [-w / 2, dy + 8],
               [dx + 8, -h / 2], [-w - dx - 8, -h / 2]);
    });
    return out;
  }

  // fixed: [dx, dy] puts every badge at that one spot instead (to compare with a naive placement).
  FA.placeLabels = function (fixed) {
    if (!FA.homes || !FA.map) return 0;
    var blocked = obstacles(), total = 0;
    FA.homes.forEach(function (m) {
      var el = m.getElement && m.getElement();
      if (!el || !FA.map.hasLayer(m)) return;
      var badge = el.firstChild;
      badge.style.transform = 'translate(0px, 0px)';
      var base = rectOf(badge), w = base.r - base.l, h = base.b - base.t;
      var best = null, bestCost = Infinity;
      (fixed ? [fixed] : spots(w, h)).forEach(function (o) {
        var r = {l: base.l + o[0], t: base.t + o[1], r: base.l + o[0] + w, b: base.t + o[1] + h};
        var cost = 0;
        blocked.forEach(function (b) { cost += overlap(r, b); });
        if (cost < bestCost - 0.5) { best = o; bestCost = cost; }
      });
      badge.style.transform = 'translate(' + Math.round(best[0]) + 'px, ' + Math.round(best[1]) + 'px)';
      // Later badges also avoid this one.
      blocked.push({l: base.l + best[0], t: base.t + best[1], r: base.l + best[0] + w, b: base.t + best[1] + h});
      total += bestCost;
    });
    if (!fixed) FA.labelOverlap = Math.round(total);
    return Math.round(total);
  };

  var labelTimer = null;
  function placeLabelsSoon() {
    // After markercluster has put this zoom's clusters in the DOM.
    // A second pass catches clusters markercluster adds a little later (after a resize or animation).
    clearTimeout(labelTimer);
    labelTimer = setTimeout(function () {
      FA.placeLabels();
      labelTimer = setTimeout(function () { FA.placeLabels(); labelTimer = null; }, 320);
    }, 80);
  }

  // One class for every account pin: shared options and click/drag handling on the prototype
  // instead of two listeners on each of 100,000 markers.
  // (Made on first use: this script may run before Leaflet's.)
  var AccountMarker = null;

  function makeIcons(d) {
    return d.categories.map(function (c) {
      return L.divIcon({className: 'fmap-dot-icon', html: '<div class="fmap-dot" style="background:' + c.color + '"></div>',
                        iconSize: [14, 14], iconAnchor: [7, 7]});
    });
  }

  function addAccounts(d, done) {
    AccountMarker = AccountMarker || L.Marker.extend({
      options: {keyboard: false, autoPan: false},
      fire: function (type, data, propagate) {
        if (type === 'click') onMarkerClick({target: this});
        else if (type === 'dragend') onDragEnd({target: this});
        return L.Marker.prototype.fire.call(this, type, data, propagate);
      }
    });
    AccountMarker.prototype.options.draggable = !!d.interactive;
    var A = d.accounts, n = A.id.length, i, finished = false;
    var icons = FA.icons = makeIcons(d);
    // Chunks keep a visible page responsive while it clusters; a hidden page (the desktop draws the
    // Map in the background) has nobody to respond to, and Chromium throttles its timers, so it
    // clusters in one go instead.
    var cluster = L.markerClusterGroup({chunkedLoading: !document.hidden, chunkInterval: 200, chunkDelay: 1,
      showCoverageOnHover: false,
      maxClusterRadius: 50, disableClusteringAtZoom: 13, spiderfyOnMaxZoom: false, iconCreateFunction: clusterIcon,
      // onAdd also reports progress (0 of 0) for its empty backlog; only our batch counts.
      chunkProgress: function (processed, total) {
        if (!finished && total === n && processed >= total) { finished = true; done(); }
      }});
    var markers = new Array(n);
    for (i = 0; i < n; i++) {
      markers[i] = new AccountMarker([A.lat[i], A.lon[i]], {icon: icons[A.cat[i]], cat: A.cat[i], idx: i});
      FA.index[A.id[i]] = i;
    }
    FA.markers = markers;
    FA.timings.markers = performance.now();
    FA.cluster = cluster;
    cluster.addTo(FA.map);
    if (n) cluster.addLayers(markers); else done();
    return cluster;
  }

  function heatPoints(d) {
    var A = d.accounts, pts = [], sorted = A.pot.slice().sort(function (a, b) { return a - b; });
    var top = sorted.length ? Math.max(1, sorted[Math.floor(sorted.length * 0.95)] || 1) : 1;
    for (var i = 0; i < A.id.length; i++) pts.push([A.lat[i], A.lon[i], Math.min(1, A.pot[i] / top)]);
    return pts;
  }

  function addHeat(d) {
    var pts = heatPoints(d);
    // leaflet.heat's maxZoom is the zoom at which intensity peaks; Leaflet's layer list also reads it
    // as the layer's zoom limit, so the heat map is offered up to county level, where it means something.
    return L.heatLayer(pts, {radius: 20, blur: 18, minOpacity: 0.25, maxZoom: 10});
  }

  function legendHtml(d) {
    var rows = d.categories.filter(function (c) { return c.count > 0; }).map(function (c) {
      return '<div class="fmap-row"><span class="fmap-swatch" style="background:' + c.color + '"></span>' +
             esc(c.name) + '<span class="fmap-count">' + c.count.toLocaleString('en-US') + '</span></div>';
    });
    var keys = ['<div class="fmap-row"><i class="fa fa-house fmap-key"></i>Rep home base</div>'];
    if (d.territories.some(function (t) { return t.outline.length; })) {
      keys.push('<div class="fmap-row"><span class="fmap-line"></span>Territory boundary</div>');
    }
    if (d.noTerritory && d.noTerritory.length) {
      var n = d.noTerritory.length;
      keys.push('<div class="fmap-row" title="' + esc(d.noTerritory.map(countyName).join('; ')) +
                '"><span class="fmap-swatch fmap-gap"></span>No territory (' + n + (n === 1 ? ' county' : ' counties') +
                ')</div>');
    }
    if (d.routes.length) keys.push('<div class="fmap-row"><span class="fmap-stop fmap-stop-key">1</span>Route stop</div>');
    return '<div class="fmap-legend-title" title="Click to fold the legend away or open it">' +
           '<span class="fmap-fold"></span>' + esc(d.title) + '</div>' +
           '<div class="fmap-legend-body">' + rows.join('') + '<div class="fmap-sep"></div>' + keys.join('') + '</div>';
  }

  function addLegend(d) {
    var legend = L.control({position: 'bottomright'});
    legend.onAdd = function () {
      var div = L.DomUtil.create('div', 'fmap-legend');
      div.innerHTML = legendHtml(d);
      // Folding the legend is the user's way out when no corner is empty.
      L.DomEvent.on(div, 'click', function (e) {
        if (e.target.closest('.fmap-legend-title')) { div.classList.toggle('fmap-folded'); placeLabelsSoon(); }
      });
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    legend.addTo(FA.map);
    FA.legend = legend;
  }

  // Accounts (and home bases) under a screen rectangle, from the data, not from what is drawn.
  function pointsUnder(rect) {
    var A = FA.data.accounts, n = A.id.length, box = FA.map.getContainer().getBoundingClientRect(), count = 0;
    var b = {l: rect.l - box.left, t: rect.t - box.top, r: rect.r - box.left, b: rect.b - box.top};
    var step = n > 20000 ? Math.ceil(n / 20000) : 1;   // a sample is enough to rank four corners
    for (var i = 0; i < n; i += step) {
      var p = FA.map.latLngToContainerPoint([A.lat[i], A.lon[i]]);
      if (p.x >= b.l && p.x <= b.r && p.y >= b.t && p.y <= b.b) count += step;
    }
    (FA.data.reps || []).forEach(function (r) {
      var p = FA.map.latLngToContainerPoint([r.home_lat, r.home_lon]);
      if (p.x >= b.l && p.x <= b.r && p.y >= b.t && p.y <= b.b) count += 1;
    });
    return count;
  }

  FA.placeLegend = function () {
    // The legend goes to the corner that hides the fewest accounts in the current view; bottom right
    // wins ties (where people look for it).
    if (!FA.legend) return null;
    var best = null, scores = {};
    ['bottomright', 'bottomleft', 'topright', 'topleft'].forEach(function (corner) {
      FA.legend.setPosition(corner);
      scores[corner] = pointsUnder(rectOf(FA.legend.getContainer()));
      if (best === null || scores[corner] < scores[best]) best = corner;
    });
    FA.legend.setPosition(best);
    FA.legendCorner = best;
    FA.legendScores = scores;
    return best;
  };

  function addDraw(d) {
    FA.drawn = L.featureGroup().addTo(FA.map);
    var control = new L.Control.Draw({position: 'topleft', edit: false, draw: {
      polyline: false, circle: false, marker: false, circlemarker: false,
      polygon: {allowIntersection: false, showArea: false, shapeOptions: {color: '#111', weight: 2}},
      rectangle: {showArea: false, shapeOptions: {color: '#111', weight: 2}}}});
    FA.map.addControl(control);
    FA.map.on(L.Draw.Event.CREATED, function (e) {
      FA.drawn.clearLayers();
      FA.drawn.addLayer(e.layer);
      var ring = e.layer.getLatLngs()[0].map(function (p) { return [p.lat, p.lng]; });
      if (FA.bridge) FA.bridge.area_selected(JSON.stringify(ring));
    });
  }

  // The layer list, made again when a count in it changes (Leaflet cannot rename an entry).
  function layersControl() {
    var d = FA.data, g = FA.groups, overlays = {};
    if (d.territories.length) overlays['Territories'] = g.territories;
    overlays['Accounts (' + d.accounts.id.length.toLocaleString('en-US') + ')'] = g.accounts;
    overlays['Rep home bases'] = g.reps;
    if (d.routes.length) overlays['Planned routes (' + d.routes.length + ')'] = g.routes;
    overlays['Heat map of potential'] = g.heat;
    if (g.tiles) overlays['Street map (online)'] = g.tiles;
    if (FA.layers) FA.layers.remove();
    FA.layers = L.control.layers(null, overlays, {collapsed: false, position: 'topright'}).addTo(FA.map);
  }

  function fit(bounds, maxZoom) {
    if (bounds && bounds.isValid()) FA.map.fitBounds(bounds, {padding: [30, 30], maxZoom: maxZoom || 12, animate: false});
  }

  FA.start = function (map, d) {
    FA.timings = {start: performance.now()};
    FA.map = map;
    FA.data = d;
    // folium sets zoom limits on tile layers only; clustering needs them on the map.
    // Fewer zoom levels means less clustering work per marker; 16 is street level.
    map.setMinZoom(4);
    map.setMaxZoom(16);
    addBase(d);
    var territories = FA.groups.territories = addTerritories(d);
    territories.addTo(map);
    FA.timings.base = performance.now();
    var accounts = addAccounts(d, function () {
      FA.timings.clustered = performance.now();
      // markercluster puts the clusters of this zoom in the DOM right after its last chunk;
      // the legend and labels are placed against those, then the page counts as ready.
      setTimeout(function () {
        FA.placeLegend();
        FA.placeLabels();
        FA.ready = true;
        var queued = FA.pending;
        FA.pending = [];
        queued.forEach(function (f) { f(); });
      }, 0);
    });
    FA.groups.accounts = accounts;
    var reps = FA.groups.reps = addReps(d);
    reps.addTo(map);
    var routes = addRoutes(d);
    FA.groups.routes = routes;
    if (d.routes.length && d.showRoutes) routes.addTo(map);
    FA.groups.heat = addHeat(d);
    FA.groups.highlight = L.featureGroup().addTo(map);
    if (d.tiles) {
      FA.groups.tiles = L.tileLayer(d.tiles.url, {attribution: d.tiles.attribution, maxZoom: 19});
      map.on('overlayadd', function (e) {
        if (e.layer === FA.groups.tiles) FA.groups.states.setStyle({fillOpacity: 0});
      });
      map.on('overlayremove', function (e) {
        if (e.layer === FA.groups.tiles) FA.groups.states.setStyle({fillOpacity: 1});
      });
      if (d.tiles.on) { FA.groups.tiles.addTo(map); FA.groups.states.setStyle({fillOpacity: 0}); }
    }
    layersControl();
    addLegend(d);
    if (d.interactive) addDraw(d);
    map.on('zoomend moveend overlayadd overlayremove', placeLabelsSoon);
    map.on('zoomend moveend', FA.updateCounties);
    accounts.on('animationend', placeLabelsSoon);
    map.on('resize', function () { FA.placeLegend(); placeLabelsSoon(); });
    if (d.view) map.setView([d.view[0], d.view[1]], d.view[2], {animate: false});
    else if (d.bounds) fit(L.latLngBounds([[d.bounds[0], d.bounds[1]], [d.bounds[2], d.bounds[3]]]), 11);
    if (map._loaded) FA.updateCounties();
    if (window.qt && window.qt.webChannelTransport && window.QWebChannel) {
      new QWebChannel(window.qt.webChannelTransport, function (channel) {
        FA.bridge = channel.objects.fieldatlas || null;
      });
    }
    var h = d.highlight || {};
    if (h.account_ids && h.account_ids.length) FA.whenReady(function () { FA.showAccounts(h.account_ids); });
    if (h.route_ids && h.route_ids.length) FA.showRoutes(h.route_ids);
    if (h.territory_id != null) FA.showTerritory(h.territory_id);
  };

  FA.whenReady = function (f) { if (FA.ready) f(); else FA.pending.push(f); };

  FA.showAccounts = function (ids) {
    FA.groups.highlight.clearLayers();
    var pts = [];
    ids.forEach(function (id) {
      var i = FA.index[id];
      if (i === undefined) return;
      var ll = [FA.data.accounts.lat[i], FA.data.accounts.lon[i]];
      pts.push(ll);
      L.circleMarker(ll, {radius: 11, color: '#111', weight: 3, fill: false, interactive: false})
        .addTo(FA.groups.highlight);
    });
    if (pts.length) fit(L.latLngBounds(pts), 13);
    return pts.length;
  };

  FA.showTerritory = function (id) {
    var t = FA.territories && FA.territories[id];
    if (!t) return false;
    FA.groups.highlight.clearLayers();
    L.polyline(t.line.getLatLngs(), {color: '#111', weight: 5, opacity: 0.8, interactive: false})
      .addTo(FA.groups.highlight);
    fit(t.layer.getBounds(), 11);
    return true;
  };

  FA.showRoutes = function (ids) {
    var b = L.latLngBounds([]);
    FA.groups.routes.addTo(FA.map);
    ids.forEach(function (id) { var r = FA.routes && FA.routes[id]; if (r) b.extend(r.getBounds()); });
    fit(b, 13);
    return b.isValid();
  };

  FA.clearDrawn = function () { if (FA.drawn) FA.drawn.clearLayers(); };
  FA.view = function () { var c = FA.map.getCenter(); return [c.lat, c.lng, FA.map.getZoom()]; };
  FA.stats = function () {
    return {ready: FA.ready, accounts: FA.data.accounts.id.length,
            drawn: document.querySelectorAll('.fmap-cluster-icon, .fmap-dot-icon').length,
            territories: FA.territories ? Object.keys(FA.territories).length : 0,
            routes: FA.data.routes.length, bridge: !!FA.bridge, timings: FA.timings, updates: FA.updates,
            legendCorner: FA.legendCorner, legendScores: FA.legendScores, labelOverlap: FA.labelOverlap,
            counties: FA.countiesShown || [], county_states: Object.keys(FA.data.base.counties || {}).length};
  };
  // Ready once every account is clustered and the city badges have settled (screenshots wait for it).
  FA.isReady = function () { return FA.ready && labelTimer === null; };
  FA.clickAccount = function (id) {  // what a click on the marker does; used by tests and the desktop
    var i = FA.index[id];
    if (i === undefined) return false;
    FA.markers[i].fire('click');
    return true;
  };
  // --- live updates: the desktop pushes what changed; the page is never reloaded for it -----------
  FA.updates = 0;

  function refill(group, fresh) {
    group.clearLayers();
    fresh.eachLayer(function (layer) { group.addLayer(layer); });
  }

  function removeAccountAt(i) {
    // Swap-remove keeps the columns dense (the heat map and corner counts read them).
    var A = FA.data.accounts, last = A.id.length - 1;
    delete FA.index[A.id[i]];
    if (i !== last) {
      Object.keys(A).forEach(function (c) { A[c][i] = A[c][last]; });
      FA.markers[i] = FA.markers[last];
      FA.markers[i].options.idx = i;
      FA.index[A.id[i]] = i;
    }
    Object.keys(A).forEach(function (c) { A[c].pop(); });
    FA.markers.pop();
  }

  function patchAccounts(pa, recolourAll) {
    var A = FA.data.accounts, cluster = FA.groups.accounts, U = pa.upsert, cols = Object.keys(U);
    var out = [], back = [], recoloured = [], added = 0, moved = 0;
    pa.removed.forEach(function (id) {
      var i = FA.index[id];
      if (i === undefined) return;
      out.push(FA.markers[i]);
      removeAccountAt(i);
    });
    for (var k = 0; k < U.id.length; k++) {
      var i = FA.index[U.id[k]];
      if (i === undefined) {
        i = A.id.length;
        cols.forEach(function (c) { A[c].push(U[c][k]); });
        var m = new AccountMarker([U.lat[k], U.lon[k]], {icon: FA.icons[U.cat[k]], cat: U.cat[k], idx: i});
        FA.markers.push(m);
        FA.index[U.id[k]] = i;
        back.push(m);
        added++;
        continue;
      }
      var marker = FA.markers[i], ll = marker.getLatLng();
      var move = Math.abs(ll.lat - U.lat[k]) > 1e-6 || Math.abs(ll.lng - U.lon[k]) > 1e-6;
      var recolour = A.cat[i] !== U.cat[k];
      cols.forEach(function (c) { A[c][i] = U[c][k]; });
      if (move) { out.push(marker); back.push(marker); moved++; }
      else if (recolour) recoloured.push(marker);
    }
    // markercluster finds a marker by where it is: take the moved ones out before moving them.
    if (out.length) cluster.removeLayers(out);
    back.forEach(function (m) { var i = m.options.idx; m.setLatLng([A.lat[i], A.lon[i]]); });
    (recolourAll ? FA.markers : back.concat(recoloured)).forEach(function (m) {
      var i = m.options.idx;
      m.options.cat = A.cat[i];
      m.setIcon(FA.icons[A.cat[i]]);
    });
    if (back.length) cluster.addLayers(back);
    var refresh = recolourAll ? null : recoloured;
    if (recolourAll || recoloured.length) cluster.refreshClusters(refresh || undefined);
    return {added: added, moved: moved, removed: pa.removed.length, recoloured: recolourAll ? FA.markers.length : recoloured.length};
  }

  function patchBase(base) {
    FA.data.base = base;
    FA.groups.states.clearLayers().addData(base.states);
    FA.groups.stateLines.clearLayers().addData(base.states);
    FA.stateBounds = {};
    FA.groups.states.eachLayer(function (layer) { FA.stateBounds[layer.feature.properties.code] = layer.getBounds(); });
    FA.groups.counties.clearLayers();
    FA.countyLayers = {};
    FA.updateCounties();
  }

  // Apply a patch from core.maps.live.diff; returns what it did (the desktop reloads if this throws).
  FA.applyPatch = function (p) {
    var d = FA.data, did = {};
    ['title', 'states', 'showRoutes'].forEach(function (k) { if (k in p) d[k] = p[k]; });
    if (p.categories) { d.categories = p.categories; FA.icons = makeIcons(d); }
    if (p.accounts || p.categories) {
      did.accounts = patchAccounts(p.accounts || {upsert: {id: []}, removed: []}, !!p.categories);
      FA.groups.heat.setLatLngs(heatPoints(d));
    }
    if (p.base) { patchBase(p.base); did.base = true; }
    if ('noTerritory' in p) { d.noTerritory = p.noTerritory; if (!p.territories) p.territories = d.territories; }
    if (p.territories) { d.territories = p.territories; refill(FA.groups.territories, addTerritories(d)); did.territories = d.territories.length; }
    if (p.reps) { d.reps = p.reps; refill(FA.groups.reps, addReps(d)); did.reps = d.reps.length; }
    if (p.routes) { d.routes = p.routes; refill(FA.groups.routes, addRoutes(d)); did.routes = d.routes.length; }
    var legend = FA.legend.getContainer();
    legend.innerHTML = legendHtml(d);
    layersControl();
    placeLabelsSoon();
    FA.updates += 1;
    FA.lastPatch = did;
    return did;
  };

  // Where the page has an account now ([lat, lon, category index]), for tests and the desktop.
  FA.account = function (id) {
    var i = FA.index[id];
    if (i === undefined) return null;
    var ll = FA.markers[i].getLatLng();
    return [ll.lat, ll.lng, FA.data.accounts.cat[i]];
  };

  // A drop the desktop refused: put the pin back where the data says the account is.
  FA.resetAccount = function (id) {
    var i = FA.index[id];
    if (i === undefined) return false;
    var m = FA.markers[i], A = FA.data.accounts;
    FA.groups.accounts.removeLayer(m);
    m.setLatLng([A.lat[i], A.lon[i]]);
    FA.groups.accounts.addLayer(m);
    return true;
  };

  return FA;
}());
