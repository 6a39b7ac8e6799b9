(function () {
  "use strict";
  // curvelint report: sort, filter and search the runs table; copy buttons; print expands all.
  // Reads data-* attributes and textContent only; never builds markup from data.
  var table = document.getElementById("runs-table");
  var RANK = { info: 1, warning: 2, error: 3 };

  function byId(id) { return document.getElementById(id); }
  function runSection(idx) { return byId("run-" + idx); }

  if (table) {
    var tbody = table.tBodies[0];
    var rows = Array.prototype.slice.call(tbody.rows);
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);

    heads.forEach(function (th, col) {
      var btn = th.querySelector("button");
      if (!btn) return;
      btn.addEventListener("click", function () {
        var asc = th.getAttribute("aria-sort") !== "ascending";
        heads.forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", asc ? "ascending" : "descending");
        var num = btn.getAttribute("data-type") === "num";
        var keyed = rows.map(function (r, i) {
          var v = r.cells[col].getAttribute("data-v");
          if (v === null) v = r.cells[col].textContent;
          return { r: r, i: i, v: num ? (v === "" ? NaN : parseFloat(v)) : v };
        });
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
        keyed.forEach(function (k) { tbody.appendChild(k.r); });
      });
    });

    var search = byId("f-search"), fKind = byId("f-kind"), fSev = byId("f-sev");
    var fStatus = byId("f-status"), count = byId("f-count"), empty = byId("f-empty");

    var matches = function (row) {
      var q = search.value.trim().toLowerCase();
      if (q && row.getAttribute("data-name").indexOf(q) < 0) return false;
      if (fStatus.value && row.getAttribute("data-status") !== fStatus.value) return false;
      var kind = fKind.value, sev = fSev.value;
      var tags = row.getAttribute("data-f");
      var pairs = tags ? tags.split(" ") : [];
      if (sev === "none") return pairs.length === 0 && !kind;
      if (!kind && !sev) return true;
      var need = sev ? RANK[sev] : 0;
      return pairs.some(function (p) {
        var cut = p.lastIndexOf(":");
        var k = p.slice(0, cut), s = p.slice(cut + 1);
        return (!kind || k === kind) && (RANK[s] || 0) >= need;
      });
    };

    var apply = function () {
      var shown = 0;
      rows.forEach(function (row) {
        var ok = matches(row);
        row.hidden = !ok;
        var sec = runSection(row.getAttribute("data-idx"));
        if (sec) sec.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown + " of " + rows.length + " runs";
      if (empty) empty.hidden = shown !== 0;
    };
    [search, fKind, fSev, fStatus].forEach(function (el) {
      el.addEventListener("input", apply);
      el.addEventListener("change", apply);
    });

    var setAll = function (open) {
      document.querySelectorAll("details.run").forEach(function (d) {
        if (!d.hidden) d.open = open;
      });
    };
    byId("expand-all").addEventListener("click", function () { setAll(true); });
    byId("collapse-all").addEventListener("click", function () { setAll(false); });
  }

  // open the run section a link points to
  var openTarget = function () {
    var id = decodeURIComponent(location.hash.slice(1));
    var el = id && byId(id);
    if (!el) return;
    var d = el.closest("details");
    if (d) { d.open = true; el.scrollIntoView(); }
  };
  window.addEventListener("hashchange", openTarget);
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

  // printing shows every run, expanded
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = [];
    document.querySelectorAll("details").forEach(function (d) {
      if (!d.open) { opened.push(d); d.open = true; }
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (d) { d.open = false; });
    opened = [];
  });
})();
