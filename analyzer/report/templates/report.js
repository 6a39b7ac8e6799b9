(function () {
  "use strict";
  // curvelint report: sort, filter and search the runs table; open a run to build its section
  // (charts drawn as SVG from the numbers in #run-data, finding cards, notes); copy buttons.
  // Data are read from data-* attributes, textContent and JSON only; every text is put in the
  // page with textContent or setAttribute, never parsed as markup.
  var RANK = { info: 1, warning: 2, error: 3 };
  var NS = "http://www.w3.org/2000/svg";
  var EXPAND_AT_MOST = 100; // "Expand all" opens at most this many runs (the first shown)

  function byId(id) { return document.getElementById(id); }

  // ------------------------------------------------------------------ the data, parsed lazily
  // #run-data is a JSON array written one element a line: [shared texts and table rows, run 0,
  // run 1, ...]; only the first line is parsed at load, a run's line when the run is opened.
  var dataEl = byId("run-data"), text = dataEl ? dataEl.textContent : "", lines = null;
  var shared = (function () {
    var a = text.indexOf("\n"), b = a < 0 ? -1 : text.indexOf("\n", a + 1);
    var first = b < 0 ? "" : text.slice(a + 1, b).replace(/,$/, "");
    return first ? JSON.parse(first) : { why: [], rem: [], str: [], rows: [], mk: [] };
  })();
  var STR = shared.str || [];
  function str(i) { return typeof i === "number" ? STR[i] : i; }
  function record(idx) {
    if (!lines) lines = text.split("\n");
    var s = lines[2 + Number(idx)];
    if (!s) return {};
    if (s.charAt(s.length - 1) === ",") s = s.slice(0, -1);
    var rec = JSON.parse(s);
    // texts many runs repeat are numbers into the shared string table (html.run_record)
    rec.fmt = str(rec.fmt);
    rec.wn = str(rec.wn);
    if (rec.fd !== undefined) { // files relative to one folder
      var dir = str(rec.fd);
      rec.files = (rec.files || []).map(function (f) { return dir + "/" + f; });
    }
    (rec.cards || []).forEach(function (f) {
      f.n = str(f.n); f.k = str(f.k); f.s = str(f.s); f.cu = str(f.cu);
    });
    return rec;
  }

  // ------------------------------------------------------------------ DOM helpers
  function h(tag, cls, text, parent) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }
  function s(tag, attrs, parent) {
    var e = document.createElementNS(NS, tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(e);
    return e;
  }
  // a run name with places to break after "/", "_", "-", "." and between the words of a
  // camelCase name (never inside a word, nor before a piece of one or two characters such as
  // the 0 of version_0; a token of 24+ characters without any, such as a hash, may break every 16)
  function nameInto(el, name) {
    var parts = String(name).replace(/([a-z])(?=[A-Z])/g, "$1\u0000").split(/([\/_.\- ]|\u0000)/);
    for (var i = 0; i < parts.length; i++) {
      var p = parts[i], next = parts[i + 1] || "";
      if (!p) continue;
      if (p === "\u0000") { if (next.length > 2) el.appendChild(document.createElement("wbr")); continue; }
      for (var k = 0; k < p.length; k += p.length >= 24 ? 16 : p.length) {
        if (k) el.appendChild(document.createElement("wbr"));
        el.appendChild(document.createTextNode(p.slice(k, p.length >= 24 ? k + 16 : p.length)));
      }
      if (i % 2 === 1 && next.length > 2) el.appendChild(document.createElement("wbr"));
    }
    return el;
  }
  function tip(e, text) {
    if (text) s("title", {}, e).textContent = String(text);
    return e;
  }

  // ------------------------------------------------------------------ numbers (as plot.py)
  function fmtNum(x, digits) {
    if (digits === undefined) digits = 3;
    if (typeof x !== "number") return String(x);
    if (!isFinite(x)) return isNaN(x) ? "nan" : (x > 0 ? "inf" : "-inf");
    if (x === 0) return "0";
    var ax = Math.abs(x), big = Math.pow(10, digits);
    if (ax >= big && ax < 1e6 && x === Math.round(x)) return x.toLocaleString("en-US");
    if (ax >= big || ax < 1e-3) {
      var p = x.toExponential(Math.max(digits - 1, 0)).split("e");
      var m = p[0].indexOf(".") >= 0 ? p[0].replace(/0+$/, "").replace(/\.$/, "") : p[0];
      return m + "e" + parseInt(p[1], 10);
    }
    return String(Number(x.toPrecision(digits)));
  }
  function g4(x) { return String(Number(x.toPrecision(4))); }
  function fmtStep(x) {
    var ax = Math.abs(x);
    if (ax >= 1e6) return Number((x / 1e6).toPrecision(3)) + "M";
    if (ax >= 1e4) return Number((x / 1e3).toPrecision(3)) + "k";
    if (ax >= 1000 && x % 1000) return Number((x / 1e3).toPrecision(3)) + "k";
    if (ax >= 1000) return Math.trunc(x / 1000) + "k";
    return g4(x);
  }
  function niceTicks(lo, hi, target) {
    if (!(isFinite(lo) && isFinite(hi))) return [];
    if (hi <= lo) return [lo];
    var raw = (hi - lo) / Math.max(target, 1);
    var mag = Math.pow(10, Math.floor(Math.log10(raw))), step = mag, ms = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < ms.length; i++) if (ms[i] * mag >= raw) { step = ms[i] * mag; break; }
    var out = [], t = Math.ceil(lo / step - 1e-9) * step;
    while (t <= hi + step * 1e-9 && out.length < 50) { out.push(Number(t.toFixed(12)) + 0); t += step; }
    return out;
  }
  // labels of linear ticks in one format, as many digits as it takes for them to differ; a
  // range tiny next to its level (a loss stuck at 3.77e25) is labelled as offsets from a base
  function tickLabels(ticks, nested) {
    if (ticks.length < 2) return { labels: ticks.map(function (v) { return fmtNum(v); }), base: null };
    var step = Math.abs(ticks[1] - ticks[0]), mag = 0;
    ticks.forEach(function (v) { mag = Math.max(mag, Math.abs(v)); });
    var offset = function () {
      var base = ticks[0], off = tickLabels(ticks.map(function (v) { return v - base; }), true);
      return { labels: off.labels.map(function (l, i) { return i ? "+" + l : "0"; }), base: base };
    };
    if (!nested && mag > 0 && step / mag < 1e-5) return offset();
    var sci = mag >= 1e5 || (mag > 0 && mag < 1e-3), e = sci ? Math.floor(Math.log10(mag)) : 0;
    var one = function (v, d) {
      if (v === 0) return "0";
      if (sci) return (v / Math.pow(10, e)).toFixed(d) + "e" + e;
      return Math.abs(v) >= 1e4 && d === 0 ? Math.round(v).toLocaleString("en-US") : v.toFixed(d);
    };
    var d = Math.max(0, Math.floor((sci ? e : 0) - Math.log10(step) + 1e-9)), out;
    for (; d <= 15; d++) {
      out = ticks.map(function (v) { return one(v, d); });
      var seen = {}, dup = false;
      out.forEach(function (l) { if (seen[l]) dup = true; seen[l] = 1; });
      if (!dup) break;
    }
    // labels too long for the margin (a small range far from zero): offsets from the first tick
    if (!nested && out.some(function (l) { return l.length > 7; })) return offset();
    return { labels: out, base: null };
  }
  function baseText(v) { return String(Number(v.toPrecision(10))).replace("e+", "e"); }
  // labels of log ticks: powers of ten all written 1e-3 ... 1e9 when any needs it, else plainly
  function logLabels(ticks) {
    var sci = ticks.some(function (v) { return v >= 1e5 || v < 1e-3; });
    return { labels: ticks.map(function (v) {
      if (!sci) return fmtNum(v);
      var e = Math.floor(Math.log10(v) + 1e-9), m = Number((v / Math.pow(10, e)).toPrecision(2));
      return (m === 1 ? "" : m + "\u00d7") + "1e" + e;
    }), base: null };
  }
  function logTicks(lo, hi) {
    if (lo <= 0 || hi <= lo) return [];
    var a = Math.floor(Math.log10(lo)), b = Math.ceil(Math.log10(hi)), dec = b - a;
    var mults = dec <= 2 ? [1, 2, 5] : [1], stride = Math.max(1, Math.ceil(dec / 7)), out = [];
    for (var e = a; e <= b; e++) {
      if ((e - a) % stride) continue;
      for (var j = 0; j < mults.length; j++) {
        var v = mults[j] * Math.pow(10, e);
        if (lo * (1 - 1e-9) <= v && v <= hi * (1 + 1e-9)) out.push(v);
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ decoding (plot.encode_*)
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", RK = {};
  for (var bi = 0; bi < 64; bi++) RK[B64.charAt(bi)] = bi;
  function decodeValues(enc) { // [lo, hi, q] or [lo, hi, q, 1] (log10 space); 9-bit values,
    // two per three characters, an odd last one in two
    var q = enc[2], m = q.length - q.length % 3, n = (m / 3) * 2 + (q.length % 3 === 2 ? 1 : 0);
    var k = new Array(n), out = new Array(n), lo = enc[0], span = enc[1] - enc[0], j = 0;
    for (var i = 0; i < m; i += 3) {
      var p = RK[q.charAt(i)] * 4096 + RK[q.charAt(i + 1)] * 64 + RK[q.charAt(i + 2)];
      k[j++] = p >> 9; k[j++] = p & 511;
    }
    if (j < n) k[j] = RK[q.charAt(m)] * 64 + RK[q.charAt(m + 1)];
    for (var t = 0; t < n; t++) {
      var v = lo + k[t] / 511 * span;
      out[t] = enc[3] ? Math.pow(10, v) : v;
    }
    return out;
  }
  function decodeSteps(enc, n) { // [x0, dx] or encoded values
    if (enc.length !== 2) return decodeValues(enc);
    var out = new Array(n);
    for (var i = 0; i < n; i++) out[i] = enc[0] + enc[1] * i;
    return out;
  }
  function decodeXY(o) {
    var y = decodeValues(o.y);
    return { x: decodeSteps(o.x, y.length), y: y };
  }

  // the display smooth of plot.display_smooth: an EMA forwards and backwards, odd padding
  function lfilter(x, w) {
    var out = new Array(x.length), prev = x[0];
    for (var i = 0; i < x.length; i++) { prev = (1 - w) * x[i] + w * prev; out[i] = prev; }
    return out;
  }
  function displaySmooth(y) {
    var n = y.length;
    if (n < 4) return y.slice();
    var span = Math.max(2, n / 60), w = 1 - 2 / (span + 1);
    var pad = Math.floor(Math.min(n - 1, 3 * span)), ext = [], i;
    for (i = pad; i >= 1; i--) ext.push(2 * y[0] - y[i]);
    for (i = 0; i < n; i++) ext.push(y[i]);
    for (i = n - 2; i >= n - 1 - pad; i--) ext.push(2 * y[n - 1] - y[i]);
    var f = lfilter(ext, w).reverse();
    var b = lfilter(f, w).reverse();
    return b.slice(pad, pad + n);
  }

  // ------------------------------------------------------------------ one chart (as Chart.svg)
  var CHAR_W = 6.2, ML = 62, MR = 14, MT = 12, MB = 34, LOG_RATIO = 20;

  // the x range of a run's charts (series and marks), so that their x axes line up
  function xRange(c, into) {
    var r = into || { lo: Infinity, hi: -Infinity };
    var put = function (m) { if (m !== null && m !== undefined && isFinite(m)) { r.lo = Math.min(r.lo, m); r.hi = Math.max(r.hi, m); } };
    c.s.forEach(function (se) {
      var y = decodeValues(se.y), x = decodeSteps(se.x, y.length);
      put(x[0]); put(x[x.length - 1]);
    });
    (c.b || []).forEach(function (b) { put(b[0]); put(b[1]); });
    (c.v || []).forEach(function (v) { put(v[0]); });
    (c.p || []).forEach(function (q) { put(q[0]); });
    return r;
  }

  function drawChart(c, runName, opt) {
    opt = opt || {};
    var W = opt.w || c.w || 880, H = c.h || 300, log = !!c.log, title = runName + ": " + str(c.t);
    var x0 = ML, x1 = W - MR, notes = [];
    var data = c.s.map(function (se) { var d = decodeXY(se); d.se = se; return d; });
    var bands = c.b || [], vlines = c.v || [], hlines = c.hl || [], points = c.p || [];
    // x range, with the marks
    var xmin = Infinity, xmax = -Infinity;
    data.forEach(function (d) {
      xmin = Math.min(xmin, d.x[0]); xmax = Math.max(xmax, d.x[d.x.length - 1]);
    });
    var mx = [];
    bands.forEach(function (b) { mx.push(b[0], b[1]); });
    vlines.forEach(function (v) { mx.push(v[0]); });
    points.forEach(function (p) { mx.push(p[0]); });
    mx.forEach(function (m) { if (m !== null && isFinite(m)) { xmin = Math.min(xmin, m); xmax = Math.max(xmax, m); } });
    if (opt.x && opt.x.hi > opt.x.lo) { xmin = Math.min(xmin, opt.x.lo); xmax = Math.max(xmax, opt.x.hi); }
    if (xmax <= xmin) { xmin -= 1; xmax += 1; }
    // labels of marks, in rows above the plot
    var span = (xmax - xmin) || 1, plotW = W - ML - MR, items = [];
    bands.forEach(function (b) { if (b[2]) items.push([b[2], b[0], b[3]]); });
    vlines.forEach(function (v) { if (v[1]) items.push([v[1], v[0], v[2]]); });
    points.forEach(function (p) { if (p[2]) items.push([p[2], p[0], p[3]]); });
    items.sort(function (a, b) { return a[1] - b[1]; });
    var rowsEnd = [], labels = [];
    items.forEach(function (it) {
      var px = (it[1] - xmin) / span * plotW, w = it[0].length * CHAR_W + 8;
      var a = px + w > plotW ? px - w : px, z = px + w > plotW ? px : px + w, r = -1;
      for (var k = 0; k < rowsEnd.length; k++) if (a >= rowsEnd[k]) { rowsEnd[k] = z; r = k; break; }
      if (r < 0) { rowsEnd.push(z); r = rowsEnd.length - 1; }
      labels.push([it[0], it[1], r, it[2]]);
    });
    var top = MT + rowsEnd.length * 13, y0 = H - MB, y1 = top;
    // y range
    var ylo = Infinity, yhi = -Infinity;
    data.forEach(function (d) {
      for (var i = 0; i < d.y.length; i++) { ylo = Math.min(ylo, d.y[i]); yhi = Math.max(yhi, d.y[i]); }
    });
    var L = log ? Math.log10 : function (v) { return v; };
    var ysp = L(yhi) - L(ylo);
    hlines.map(function (q) { return q[0]; }).concat(points.map(function (p) { return p[1]; })).forEach(function (e) {
      if (e === null || !isFinite(e)) return;
      if (log && e <= 0) { notes.push(fmtNum(e)); return; }
      var ev = L(e);
      if ((L(ylo) - ysp <= ev && ev <= L(yhi) + ysp) || ysp === 0) { ylo = Math.min(ylo, e); yhi = Math.max(yhi, e); }
      else notes.push(fmtNum(e));
    });
    var ty, ticks;
    if (log) {
      var lyl = Math.log10(ylo), lyh = Math.log10(yhi), pad = (lyh - lyl) * 0.04 || 0.5;
      lyl -= pad; lyh += pad;
      ticks = logTicks(Math.pow(10, lyl), Math.pow(10, lyh));
      ty = function (v) { return y0 - (Math.log10(Math.max(v, 1e-300)) - lyl) / (lyh - lyl) * (y0 - y1); };
    } else {
      var pd = (yhi - ylo) * 0.05 || (Math.abs(yhi) * 0.1 || 1), lo = ylo - pd, hi = yhi + pd;
      if (ylo >= 0 && lo < 0) lo = 0;
      ticks = niceTicks(lo, hi, 5);
      ty = function (v) { return y0 - (v - lo) / (hi - lo) * (y0 - y1); };
    }
    var tx = function (v) { return x0 + (v - xmin) / (xmax - xmin) * (x1 - x0); };
    var f1 = function (v) { return v.toFixed(1); };
    var path = function (xs, ys) {
      var p = [];
      for (var i = 0; i < xs.length; i++) p.push((i ? "L" : "M") + f1(tx(xs[i])) + " " + f1(ty(ys[i])));
      return p.join("");
    };

    var svg = s("svg", { "class": "chart", viewBox: "0 0 " + W + " " + H, width: W, height: H, role: "img", "aria-label": title });
    tip(svg, title);
    var grid = s("g", { "class": "grid" }, svg);
    ticks.forEach(function (t) { var yy = f1(ty(t)); s("line", { x1: x0, x2: x1, y1: yy, y2: yy }, grid); });
    bands.forEach(function (b) {
      var a = tx(b[0]), z = tx(b[1]);
      tip(s("rect", { "class": "band " + b[3], x: f1(a), y: y1, width: f1(Math.max(z - a, 2)), height: y0 - y1 }, svg), markTitle(b[4]) || b[2]);
    });
    var under = s("g", { "class": "under" }, svg); // plateau levels, drawn wide beneath the curves
    var buckets = Math.max(20, Math.floor((x1 - x0) / 4));
    data.forEach(function (d) {
      var se = d.se, n = se.n, cls = str(se.c), dash = se.da ? " dashed" : "";
      var smooth = se.sm !== 0;
      if (smooth && n >= 40) {
        s("path", { "class": "raw" + (n <= 2 * buckets ? " sparse" : "") + " " + cls, d: path(d.x, d.y) }, svg);
        var tr;
        if (se.t) tr = decodeXY(se.t);
        else {
          var sm = log ? displaySmooth(d.y.map(Math.log10)).map(function (v) { return Math.pow(10, v); }) : displaySmooth(d.y);
          var stride = Math.max(1, Math.ceil(n / 160)), tx2 = [], ty2 = [];
          for (var i = 0; i < n; i += stride) { tx2.push(d.x[i]); ty2.push(sm[i]); }
          if ((n - 1) % stride) { tx2.push(d.x[n - 1]); ty2.push(sm[n - 1]); }
          tr = { x: tx2, y: ty2 };
        }
        tip(s("path", { "class": "trend " + cls + dash, d: path(tr.x, tr.y) }, svg), str(se.l));
      } else {
        tip(s("path", { "class": "trend " + cls + dash, d: path(d.x, d.y) }, svg), str(se.l));
        if (n <= 60) {
          var dots = s("g", { "class": "dots " + cls }, svg);
          for (var k = 0; k < d.x.length; k++) s("circle", { cx: f1(tx(d.x[k])), cy: f1(ty(d.y[k])), r: 2 }, dots);
        }
      }
    });
    var usedY = [];
    hlines.forEach(function (q) {
      var v = q[0];
      if (v === null || !isFinite(v) || (log && v <= 0)) return;
      var yy = ty(v);
      if (!(y1 - 1 <= yy && yy <= y0 + 1)) return;
      var a = q[3] !== null ? tx(q[3]) : x0, z = q[4] !== null ? tx(q[4]) : x1;
      var g = s("g", { "class": "hline " + q[2] }, svg);
      if (q[2] === "mk-plateau") s("line", { "class": "hl-under " + q[2], x1: f1(a), x2: f1(z), y1: f1(yy), y2: f1(yy) }, under);
      s("line", { x1: f1(a), x2: f1(z), y1: f1(yy), y2: f1(yy) }, g);
      if (q[1] && q[3] === null) {
        var ly = yy - 4;
        while (usedY.some(function (u) { return Math.abs(ly - u) < 11; })) ly -= 11;
        usedY.push(ly);
        s("text", { x: f1(z - 3), y: f1(ly), "text-anchor": "end" }, g).textContent = q[1];
      }
      tip(g, markTitle(q[5]) || q[1]);
    });
    vlines.forEach(function (v) {
      var xx = f1(tx(v[0]));
      tip(s("line", { "class": "vline " + v[2], x1: xx, x2: xx, y1: y1, y2: y0 }, svg), markTitle(v[3]) || v[1]);
    });
    points.forEach(function (p) {
      if (p[1] === null || !isFinite(p[1]) || (log && p[1] <= 0)) return;
      var g = s("g", { "class": "point " + p[3] }, svg);
      s("circle", { cx: f1(tx(p[0])), cy: f1(ty(p[1])), r: 5 }, g);
      tip(g, markTitle(p[4]) || p[2]);
    });
    labels.forEach(function (lb) {
      var xx = tx(lb[1]), anchor = xx + lb[0].length * CHAR_W > x1 ? "end" : "start";
      s("text", { "class": "mlabel " + lb[3], x: f1(xx), y: MT + lb[2] * 13 + 8, "text-anchor": anchor }, svg).textContent = lb[0];
    });
    var ax = s("g", { "class": "axis" }, svg);
    s("line", { x1: x0, x2: x0, y1: y1, y2: y0 }, ax);
    s("line", { x1: x0, x2: x1, y1: y0, y2: y0 }, ax);
    var tl = log ? logLabels(ticks) : tickLabels(ticks);
    ticks.forEach(function (t, i) {
      s("text", { x: x0 - 6, y: f1(ty(t) + 3.5), "text-anchor": "end" }, ax).textContent = tl.labels[i];
    });
    niceTicks(xmin, xmax, W > 600 ? 7 : 4).forEach(function (t) {
      var xx = f1(tx(t));
      s("line", { x1: xx, x2: xx, y1: y0, y2: y0 + 4 }, ax);
      s("text", { x: xx, y: y0 + 16, "text-anchor": "middle" }, ax).textContent = fmtStep(t);
    });
    s("text", { "class": "alabel", x: Math.round((x0 + x1) / 2), y: H - 3, "text-anchor": "middle" }, ax).textContent = c.xl || "step";
    s("text", { "class": "alabel", transform: "translate(12 " + Math.round((y0 + y1) / 2) + ") rotate(-90)", "text-anchor": "middle" }, ax)
      .textContent = str(c.yl) + (log ? " (log scale)" : "") + (tl.base !== null ? " \u2212 " + baseText(tl.base) : "");
    if (notes.length) notes = ["level(s) outside the plotted range: " + notes.join(", ")];
    if (tl.base !== null) notes.push("y axis: " + str(c.yl) + " minus " + baseText(tl.base) + " (the values differ only in their last digits)");
    (c.nt || []).forEach(function (n) { notes.push(n); });
    return { svg: svg, notes: notes };
  }

  // a mark's tooltip: a finding number (its card's "#n CODE name: message"), [n, suffix] or text
  var currentCards = [];
  function markTitle(t) {
    if (typeof t === "number") return stdTitle(t);
    if (Array.isArray(t)) return stdTitle(t[0]) + t[1];
    return t;
  }
  function stdTitle(n) {
    var f = currentCards[n - 1];
    return f ? "#" + n + " " + f.c + " " + f.n + ": " + f.m : "";
  }

  // ------------------------------------------------------------------ a run's section
  var rowsByIdx = {}, sections = {}, orderOf = {};
  var sectionsBox = byId("run-sections");

  function runName(idx) {
    var row = rowsByIdx[idx];
    return row ? row[1] : "run " + idx;
  }

  function drawCharts(sec) {
    if (sec.getAttribute("data-drawn")) return;
    sec.setAttribute("data-drawn", "1");
    var idx = sec.getAttribute("data-idx"), rec = record(idx), box = sec.querySelector(".charts");
    if (!box) return;
    currentCards = rec.cards || [];
    var name = runName(idx), charts = rec.charts || [], xr = null;
    charts.forEach(function (c) { xr = xRange(c, xr); });
    var w = chartWidth(box);
    charts.forEach(function (c) { figure(box, c, name, { x: xr, w: w }); });
  }

  // charts are drawn at the width they are shown at (text stays 11 px on a narrow window),
  // all of a run's charts at one width and over one x range, so their x axes line up
  function chartWidth(box) {
    var cw = box.clientWidth || 0;
    return cw ? Math.max(360, Math.min(1000, Math.round(cw))) : 880;
  }

  function figure(box, c, name, opt) {
    var fig = h("figure", "chart-box", null, box);
    var out = drawChart(c, name, opt);
    fig.appendChild(out.svg);
    var cap = h("figcaption", "legend", null, fig);
    (function () {
      var lg = function (swCls, text) {
        var sp = h("span", "lg", null, cap);
        if (swCls) h("span", "sw " + swCls, null, sp);
        sp.appendChild(document.createTextNode(text));
        return sp;
      };
      c.s.forEach(function (se) { lg(str(se.c), str(se.l)); });
      var used = {};
      [["band", c.b, 3], ["vline", c.v, 2], ["point", c.p, 3], ["hline", c.hl, 2]].forEach(function (k) {
        (k[1] || []).forEach(function (m) { used[k[0] + " " + m[k[2]]] = 1; });
      });
      (shared.mk || []).forEach(function (m) { // [shape, class, text], in a stable order
        if (used[m[0] + " " + m[1]]) lg("sw-" + m[0] + " " + m[1], m[2]);
      });
      if (c.log) lg(null, "log scale").className = "lg muted";
      out.notes.forEach(function (n) { lg(null, n).className = "lg muted"; });
    })();
    return fig;
  }

  function paths(dd, list) {
    list.forEach(function (p, i) {
      if (i) dd.appendChild(document.createTextNode(", "));
      h("code", "path", p, dd);
    });
  }

  function buildSection(idx) {
    var rec = record(idx), name = runName(idx), cards = rec.cards || [];
    var d = h("details", "run " + rec.v);
    d.id = "run-" + idx;
    d.setAttribute("data-idx", idx);
    var sum = h("summary", null, null, d);
    h("span", "badge v-" + rec.v, rec.v, sum);
    sum.appendChild(document.createTextNode(" "));
    nameInto(h("span", "rname", null, sum), name);
    sum.appendChild(document.createTextNode(" "));
    h("span", "rmeta", rec.fmt + " · " + cards.length + " finding" + (cards.length === 1 ? "" : "s") +
      (rec.wc ? " · worst: " + rec.wc + " " + rec.wn : ""), sum);
    var body = h("div", "run-body", null, d);
    var kv = h("dl", "kv", null, body);
    h("dt", null, "Files", kv);
    var dd = h("dd", null, null, kv), files = rec.files || [];
    if (!files.length) dd.textContent = "–";
    paths(dd, files.slice(0, 3));
    if (files.length > 3) {
      dd.appendChild(document.createTextNode(" "));
      var more = h("details", "more-files", null, dd);
      h("summary", null, "and " + (files.length - 3) + " more", more);
      paths(more, files.slice(3));
    }
    h("dt", null, "Curves", kv);
    dd = h("dd", null, null, kv);
    var ROLES = ["train loss", "val loss", "train metric", "val metric", "learning rate"];
    (rec.roles || []).forEach(function (r) {
      var sp = h("span", "role", ROLES[r[0]] + " ", dd);
      h("code", null, str(r[1]), sp);
    });
    var has = (rec.roles || []).some(function (r) { return r[0] <= 1; });
    if (!has) h("span", "muted", "no training or validation loss identified", dd);
    if (rec.charts && rec.charts.length) h("div", "charts", null, body);
    else h("p", "muted", "No curve to plot for this run.", body);
    var sibs = siblings(idx);
    if (sibs.length > 1 && rec.charts && rec.charts.length) overlayBox(body, idx, sibs);
    if (cards.length) {
      var box = h("div", "cards", null, body);
      cards.forEach(function (f, i) { box.appendChild(card(f, i + 1, idx)); });
      if (rec.rem && rec.rem.length) remedies(body, rec, idx);
    } else if (rec.v === "healthy") {
      h("p", "ok-note", "No finding: the curves look healthy to every rule that ran.", body);
    }
    var rn = h("div", "readnotes", null, body);
    [["How the curves were chosen", rec.why_roles, "–"], ["Reader notes", rec.notes, "none"]].forEach(function (p) {
      var dv = h("div", null, null, rn);
      h("h4", null, p[0], dv);
      if (p[1] && p[1].length) {
        var ul = h("ul", null, null, dv);
        p[1].forEach(function (t) { h("li", null, str(t), ul); });
      } else h("p", "muted", p[2], dv);
    });
    if (rec.hp && rec.hp.length) {
      var hp = h("details", "hparams", null, body);
      h("summary", null, "Hyper-parameters (" + rec.hp.length + ")", hp);
      evidence(hp, rec.hp);
    }
    d.addEventListener("toggle", function () { if (d.open) drawCharts(d); });
    return d;
  }

  function evidence(parent, pairs) {
    var tb = h("tbody", null, null, h("table", "evidence", null, parent));
    pairs.forEach(function (p) {
      var tr = h("tr", null, null, tb);
      h("th", null, str(p[0]), tr);
      h("td", null, p[1], tr);
    });
  }

  // the run's one remedy list: each remedy once, in the order of the findings it addresses,
  // with its snippets in the run's framework's order (its own first)
  var FW = { keras: ["Keras", 3], pytorch: ["PyTorch", 4], lightning: ["Lightning", 5], hf: ["Hugging Face Trainer", 6] };
  function remedies(body, rec, idx) {
    var rem = h("div", "remedies", null, body);
    h("h4", null, "What to try" + (rec.fwl ? " — for " + rec.fwl : ""), rem);
    var ol = h("ol", null, null, rem);
    var order = rec.fw || ["keras", "pytorch", "lightning", "hf"];
    rec.rem.forEach(function (e, k) {
      var r = shared.rem[e[0]];
      if (!r) return;
      var li = h("li", "remedy", null, ol);
      li.id = "run-" + idx + "-r" + (k + 1);
      li.setAttribute("data-id", r[0]);
      h("p", "rtitle", r[1], li);
      var fp = h("p", "rfor muted", "for ", li);
      e[1].forEach(function (n, j) {
        if (j) fp.appendChild(document.createTextNode(", "));
        var ln = h("a", null, "#" + n, fp);
        ln.href = "#run-" + idx + "-f" + n;
      });
      h("p", "rwhy", r[2], li);
      // a known framework: its snippet shown, the others folded under "Other frameworks";
      // unknown: Keras and PyTorch shown, Lightning and Hugging Face folded
      var sn = null, more = null, shown = 0, open = rec.fwl ? 1 : 2;
      order.forEach(function (name) {
        var fw = FW[name], code = fw && r[fw[1]];
        if (!code) return;
        var into;
        if (shown >= open) {
          if (!more) {
            more = h("details", "snips-more", null, li);
            h("summary", null, "Other frameworks", more);
            more = h("div", "snips", null, more);
          }
          into = more;
        } else {
          if (!sn) sn = h("div", "snips", null, li);
          into = sn;
        }
        shown++;
        var sp = h("div", "snip", null, into), sh = h("div", "snip-h", null, sp);
        sp.setAttribute("data-fw", name);
        h("span", null, fw[0], sh);
        var b = h("button", "copy", "Copy", sh);
        b.type = "button";
        b.setAttribute("aria-label", "Copy the " + fw[0] + " snippet");
        h("code", null, code, h("pre", null, null, sp));
      });
    });
  }

  function card(f, n, idx) {
    var a = h("article", "card sev-" + f.s);
    a.id = "run-" + idx + "-f" + n;
    a.setAttribute("data-kind", f.k);
    a.setAttribute("data-sev", f.s);
    var hd = h("header", null, null, a);
    h("span", "num", "#" + n, hd);
    h("span", "badge sev-" + f.s, f.s, hd);
    h("code", "code", f.c, hd);
    h("span", "fname", f.n, hd);
    h("span", "kind", f.k, hd);
    h("span", "conf", "confidence " + f.cf + "%", hd).title = "confidence";
    h("p", "msg", f.m, a);
    if (f.cu || f.w) {
      var wp = h("p", "where", null, a);
      if (f.cu) { wp.appendChild(document.createTextNode("curve ")); h("code", null, f.cu, wp); }
      if (f.cu && f.w) wp.appendChild(document.createTextNode(" · "));
      if (f.w) wp.appendChild(document.createTextNode(f.w));
    }
    if (f.e && f.e.length) {
      h("h4", null, "What decided it", a);
      evidence(a, f.e);
    }
    if (f.y !== undefined && shared.why[f.y]) {
      var why = h("div", "why", null, a);
      h("h4", null, "Why it matters", why);
      shared.why[f.y].forEach(function (p) { h("p", null, p, why); });
    }
    if (f.r && f.r.length) { // numbers in the run's one remedy list (below the cards)
      var tp = h("p", "to-try", null, a);
      h("span", "muted", "What to try: ", tp);
      f.r.forEach(function (k, j) {
        if (j) tp.appendChild(document.createTextNode(", "));
        var ln = h("a", null, "remedy " + k, tp);
        ln.href = "#run-" + idx + "-r" + k;
      });
    }
    return a;
  }

  // ------------------------------------------------------------------ overlay of sibling runs
  // the runs of one folder (seeds, versions: the table rows' group) on one chart, one curve
  // (validation or training loss) each, from their JSON lines; drawn when opened
  var OVERLAY_MAX = 10, groups = {};
  function siblings(idx) {
    var r = rowsByIdx[idx];
    return r ? groups[r[14]] || [] : [];
  }
  function overlayBox(body, idx, sibs) {
    var r = rowsByIdx[idx], where = str(r[14]) || "the top folder";
    var box = h("details", "overlay", null, body);
    var sm = h("summary", null, null, box);
    sm.appendChild(document.createTextNode("Compare with the " + (sibs.length - 1) + " other run" +
      (sibs.length === 2 ? "" : "s") + " of "));
    nameInto(h("code", "path", null, sm), where);
    var ctl = h("p", "overlay-ctl", null, box), sel = h("select", null, null, h("label", null, "Curve ", ctl));
    [["s-val", "validation loss"], ["s-train", "training loss"]].forEach(function (o) {
      var op = h("option", null, o[1], sel);
      op.value = o[0];
    });
    var own = ((record(idx).charts || [])[0] || { s: [] }).s.map(function (x) { return str(x.c); });
    if (own.indexOf("s-val") < 0 && own.indexOf("s-train") >= 0) sel.value = "s-train";
    var area = h("div", "charts", null, box);
    var draw = function () {
      area.textContent = "";
      var c = overlayChart(idx, sibs, sel.value);
      if (!c) { h("p", "muted", "None of these runs logs a " + sel.options[sel.selectedIndex].text + ".", area); return; }
      figure(area, c, where, { w: chartWidth(area) });
      if (c.more) h("p", "muted", "The first " + OVERLAY_MAX + " runs of the folder are drawn (" + c.more + " more).", area);
    };
    sel.addEventListener("change", draw);
    box.addEventListener("toggle", function () { if (box.open && !area.firstChild) draw(); });
  }
  function shortName(name, group) {
    return group && name.indexOf(group + "/") === 0 ? name.slice(group.length + 1) : name;
  }
  function overlayChart(idx, sibs, cls) {
    var order = [String(idx)].concat(sibs.filter(function (i) { return String(i) !== String(idx); }));
    var series = [], lo = Infinity, hi = -Infinity, k = 0, more = 0;
    order.forEach(function (i) {
      if (series.length >= OVERLAY_MAX) { more++; return; }
      var rec = record(i), loss = (rec.charts || [])[0];
      if (!loss) return;
      var se = loss.s.filter(function (x) { return str(x.c) === cls; })[0];
      if (!se) return;
      decodeValues(se.y).forEach(function (v) { if (isFinite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); } });
      series.push({ x: se.x, y: se.y, n: se.n, t: se.t, sm: se.sm,
        l: shortName(runName(i), str(rowsByIdx[i][14])) + (String(i) === String(idx) ? " (this run)" : ""), c: "ov o" + (k++ % OVERLAY_MAX) + (String(i) === String(idx) ? " mine" : "") });
    });
    if (!series.length) return null;
    return { s: series, t: cls === "s-val" ? "validation loss" : "training loss", yl: cls === "s-val" ? "validation loss" : "training loss",
      log: lo > 0 && hi / lo > LOG_RATIO ? 1 : 0, h: 300, more: more };
  }

  // the section of run idx, made (and placed in table order) the first time it is asked for
  function section(idx) {
    idx = String(idx);
    if (sections[idx]) return sections[idx];
    if (!rowsByIdx[idx]) return null;
    var d = buildSection(idx), me = orderOf[idx], after = null, best = Infinity;
    for (var k in sections) {
      var o = orderOf[k];
      if (o > me && o < best) { best = o; after = sections[k]; }
    }
    sectionsBox.insertBefore(d, after);
    sections[idx] = d;
    var hint = byId("runs-hint");
    if (hint) hint.hidden = true;
    return d;
  }
  function openRun(idx, scroll) {
    var d = section(idx);
    if (!d) return null;
    d.hidden = false;
    d.open = true;
    drawCharts(d);
    if (scroll) d.scrollIntoView();
    return d;
  }

  // ------------------------------------------------------------------ the table
  // rows: [idx, name, format, verdict, worst severity, worst code, worst name, findings,
  // train final, train best, val final, val best, best val step, "kind:severity ..."]; the table
  // shows the first PAGE rows that pass the filters and more as it is scrolled.
  var PAGE = 200;
  var table = byId("runs-table");
  var rows = shared.rows || [];
  var VERDICT = { problems: 0, "insufficient-data": 1, healthy: 2 };
  var shownRows = rows, limit = PAGE, drawn = 0;
  rows.forEach(function (r, i) {
    rowsByIdx[r[0]] = r;
    orderOf[r[0]] = i;
    r.lc = String(r[1]).toLowerCase();
    (groups[r[14]] = groups[r[14]] || []).push(r[0]);
  });

  function td(tr, cls, v, text) {
    var c = h("td", cls, text, tr);
    if (v !== undefined) c.setAttribute("data-v", v);
    return c;
  }
  function rowEl(r) {
    var tr = document.createElement("tr");
    tr.setAttribute("data-idx", r[0]);
    tr.setAttribute("data-name", r.lc);
    tr.setAttribute("data-status", r[3]);
    tr.setAttribute("data-f", r[13]);
    var c = td(tr, null, r.lc);
    var a = nameInto(h("a", null, null, c), r[1]);
    a.href = "#run-" + r[0];
    c.appendChild(document.createTextNode(" "));
    h("span", "fmt", r[2], c);
    h("span", "badge v-" + r[3], r[3], td(tr, null, r[3] in VERDICT ? VERDICT[r[3]] : 3));
    if (r[4]) {
      c = td(tr, null, 10 - (RANK[r[4]] - 1) * 3);
      h("span", "dot sev-" + r[4], null, c).title = r[4];
      h("code", null, r[5], c);
      c.appendChild(document.createTextNode(" " + r[6]));
    } else td(tr, "muted", 99, "–");
    td(tr, "r", r[7], r[7]);
    for (var k = 8; k <= 12; k++) {
      var v = r[k];
      td(tr, "r", v === null ? "" : v, v === null ? "–" : (k === 12 ? Math.trunc(v).toLocaleString("en-US") : fmtNum(v)));
    }
    return tr;
  }

  if (table) {
    var tbody = table.tBodies[0], more = byId("f-more");
    var healthyNote = byId("f-healthy"), healthyText = byId("f-healthy-text"), healthyBtn = byId("toggle-healthy");
    var showHealthy = false, printing = false;
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var search = byId("f-search"), fKind = byId("f-kind"), fSev = byId("f-sev");
    var fStatus = byId("f-status"), count = byId("f-count"), empty = byId("f-empty");

    var fill = function () { // add rows up to the limit
      var frag = document.createDocumentFragment(), end = Math.min(limit, shownRows.length);
      for (; drawn < end; drawn++) frag.appendChild(rowEl(shownRows[drawn]));
      tbody.appendChild(frag);
      more.hidden = shownRows.length <= drawn;
      more.firstChild.textContent = "Show more (" + (shownRows.length - drawn).toLocaleString("en-US") + " not shown)";
    };
    var redraw = function () {
      tbody.textContent = "";
      drawn = 0;
      limit = PAGE;
      fill();
    };
    byId("show-more").addEventListener("click", function () { limit += PAGE; fill(); });
    // more rows as the page is scrolled to the end of the table (the page scrolls, not the table)
    window.addEventListener("scroll", function () {
      if (drawn < shownRows.length && table.getBoundingClientRect().bottom < window.innerHeight + 600) {
        limit += PAGE;
        fill();
      }
    }, { passive: true });

    var keyOf = function (r, col) {
      if (col === 0) return r.lc;
      if (col === 1) return r[3] in VERDICT ? VERDICT[r[3]] : 3;
      if (col === 2) return r[4] ? 10 - (RANK[r[4]] - 1) * 3 : 99;
      var v = r[col + 4 > 12 ? 12 : col + 4];
      if (col === 3) v = r[7];
      return v === null ? NaN : v;
    };
    heads.forEach(function (th, col) {
      var btn = th.querySelector("button");
      if (!btn) return;
      btn.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (x) { x.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var num = btn.getAttribute("data-type") === "num";
        var keyed = rows.map(function (r, i) { return { r: r, i: i, v: keyOf(r, col) }; });
        keyed.sort(function (a, b) {
          var c;
          if (num) {
            var an = isNaN(a.v), bn = isNaN(b.v);
            if (an || bn) return an === bn ? a.i - b.i : (an ? 1 : -1); // missing values last
            c = a.v - b.v;
          } else {
            c = a.v < b.v ? -1 : (a.v > b.v ? 1 : 0);
          }
          return (asc ? c : -c) || a.i - b.i;
        });
        rows = keyed.map(function (k) { return k.r; });
        apply();
      });
    });

    var matches = function (r) {
      var q = search.value.trim().toLowerCase();
      if (q && r.lc.indexOf(q) < 0) return false;
      if (fStatus.value && r[3] !== fStatus.value) return false;
      var kind = fKind.value, sev = fSev.value;
      var pairs = r[13] ? r[13].split(" ") : [];
      if (sev === "none") return pairs.length === 0 && !kind;
      if (!kind && !sev) return true;
      var need = sev ? RANK[sev] : 0;
      return pairs.some(function (p) {
        var cut = p.lastIndexOf(":");
        var k = p.slice(0, cut), sv = p.slice(cut + 1);
        return (!kind || k === kind) && (RANK[sv] || 0) >= need;
      });
    };

    // triage: healthy runs are collapsed into a count (with a toggle) unless asked for (status
    // "healthy", "no findings", a search) or unless no other run is left to show
    var asked = function () {
      return fStatus.value === "healthy" || fSev.value === "none" || search.value.trim() !== "";
    };
    var chips = Array.prototype.slice.call(document.querySelectorAll("button.chip[data-f]"));
    var apply = function () {
      var all = rows.filter(matches), collapse = !showHealthy && !asked();
      if (collapse && !all.some(function (r) { return r[3] !== "healthy"; })) collapse = false;
      shownRows = collapse ? all.filter(function (r) { return r[3] !== "healthy"; }) : all;
      var healthy = all.length - (collapse ? shownRows.length : all.filter(function (r) { return r[3] !== "healthy"; }).length);
      for (var k in sections) sections[k].hidden = !matches(rowsByIdx[k]);
      count.textContent = shownRows.length + " of " + rows.length + " runs";
      if (empty) empty.hidden = all.length !== 0;
      healthyNote.hidden = !healthy || asked();
      healthyText.textContent = healthy.toLocaleString("en-US") + " healthy run" + (healthy === 1 ? "" : "s") +
        (collapse ? " not listed." : " listed.");
      healthyBtn.textContent = collapse ? "Show them" : "Hide them";
      healthyBtn.setAttribute("aria-expanded", collapse ? "false" : "true");
      healthyNote.classList.toggle("collapsed", collapse);
      chips.forEach(function (ch) {
        ch.setAttribute("aria-pressed", byId(ch.getAttribute("data-f")).value === ch.getAttribute("data-v") ? "true" : "false");
      });
      redraw();
    };
    healthyBtn.addEventListener("click", function () { showHealthy = !showHealthy; apply(); });
    [search, fKind, fSev, fStatus].forEach(function (el) {
      el.addEventListener("input", apply);
      el.addEventListener("change", apply);
    });
    // the summary chips filter the table: a click sets their filter, a second click clears it
    chips.forEach(function (ch) {
      ch.addEventListener("click", function () {
        var sel = byId(ch.getAttribute("data-f")), v = ch.getAttribute("data-v");
        sel.value = sel.value === v ? "" : v;
        apply();
        var top = byId("overview").getBoundingClientRect().top;
        if (top > window.innerHeight - 120) byId("overview").scrollIntoView();
      });
    });
    apply();

    // print: the runs with problems only (every one of them in the table, up to PRINT_ROWS)
    var PRINT_ROWS = 2000, saved = null;
    window.addEventListener("beforeprint", function () {
      if (printing) return;
      printing = true;
      saved = shownRows;
      shownRows = rows.filter(function (r) { return r[3] === "problems"; });
      tbody.textContent = "";
      drawn = 0;
      limit = PRINT_ROWS;
      fill();
    });
    window.addEventListener("afterprint", function () {
      if (!printing) return;
      printing = false;
      shownRows = saved;
      redraw();
    });

    byId("expand-all").addEventListener("click", function () {
      shownRows.slice(0, EXPAND_AT_MOST).forEach(function (r) { openRun(r[0], false); });
    });
    byId("collapse-all").addEventListener("click", function () {
      for (var k in sections) sections[k].open = false;
    });
    // a click on a run's row (its name or anywhere else) opens its section
    tbody.addEventListener("click", function (ev) {
      var tr = ev.target.closest ? ev.target.closest("tr") : null;
      if (!tr) return;
      ev.preventDefault();
      var idx = tr.getAttribute("data-idx");
      if (location.hash !== "#run-" + idx && history.pushState) history.pushState(null, "", "#run-" + idx);
      openRun(idx, true);
    });
  }

  // open the run (or finding card) a link points to
  var openTarget = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var m = /^run-(\d+)(-f\d+)?$/.exec(id);
    if (m) openRun(m[1], false);
    var el = id && byId(id);
    if (!el) return;
    var d = el.closest("details");
    if (d) { d.open = true; el.scrollIntoView(); }
  };
  window.addEventListener("hashchange", openTarget);
  if (sectionsBox && sectionsBox.getAttribute("data-open-all") === "1") {
    rows.forEach(function (r) { openRun(r[0], false); });
  }
  openTarget();

  // copy buttons: copy the snippet next to the button
  document.addEventListener("click", function (ev) {
    var btn = ev.target.closest ? ev.target.closest("button.copy") : null;
    if (!btn) return;
    var code = btn.closest(".snip").querySelector("code");
    var text = code.textContent;
    var done = function () {
      btn.textContent = "Copied";
      setTimeout(function () { btn.textContent = "Copy"; }, 1200);
    };
    var fallback = function () {
      var sel = window.getSelection(), range = document.createRange();
      range.selectNodeContents(code);
      sel.removeAllRanges();
      sel.addRange(range);
      try { document.execCommand("copy"); done(); } catch (e) { btn.textContent = "Press Ctrl+C"; }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  });

  // printing shows the opened runs with problems, one a page (report.css), with their charts
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details.run[open]").forEach(function (d) { drawCharts(d); });
  });

  // for benchmarks/report_speed.py: set-up done and one frame painted
  requestAnimationFrame(function () {
    setTimeout(function () { if (performance.mark) performance.mark("curvelint-interactive"); }, 0);
  });
})();
