/* algrid interactive report: draws every figure from the JSON aggregates embedded in the page (no network). */
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("algrid-data").textContent);
  var FONT = { family: "system-ui, -apple-system, Segoe UI, sans-serif", size: 13, color: "#222" };
  var CFG = { displaylogo: false, responsive: true };
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#e6550d", "#31a354", "#843c39", "#7b4173", "#3182bd", "#fd8d3c",
    "#74c476", "#ad494a", "#a55194", "#6baed6", "#636363", "#9c9ede", "#cedb9c"];
  var ORDER = D.leaderboard.rows.map(function (r) { return r.strategy + "@" + r.implementation; });

  function color(label) {
    var i = ORDER.indexOf(label);
    if (i < 0) { i = ORDER.length + label.length; }
    return PALETTE[i % PALETTE.length];
  }
  function rgba(hex, a) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + (n >> 16) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + a + ")";
  }
  function fmt(v, d) {
    if (v === null || v === undefined || (typeof v === "number" && !isFinite(v))) { return "–"; }
    return typeof v === "number" ? v.toFixed(d === undefined ? 3 : d) : String(v);
  }
  function layout(extra) {
    var base = { font: FONT, margin: { l: 60, r: 20, t: 30, b: 50 }, paper_bgcolor: "#fff", plot_bgcolor: "#fff",
      hoverlabel: { font: { size: 13 } } };
    for (var k in extra) { if (Object.prototype.hasOwnProperty.call(extra, k)) { base[k] = extra[k]; } }
    return base;
  }
  function note(id, text) {
    var el = document.getElementById(id);
    el.className = "note";
    el.textContent = text;
  }

  /* ---- sortable tables ---------------------------------------------------------------------------- */
  function sortTable(table, col, th) {
    var body = table.tBodies[0];
    var asc = th.getAttribute("aria-sort") !== "ascending";
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = a.cells[col].getAttribute("data-v"), y = b.cells[col].getAttribute("data-v");
      var nx = parseFloat(x), ny = parseFloat(y), c;
      if (!isNaN(nx) && !isNaN(ny)) { c = nx - ny; } else { c = String(x).localeCompare(String(y)); }
      return asc ? c : -c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th, i) {
      th.addEventListener("click", function () { sortTable(table, i, th); });
    });
  });

  /* ---- learning curves ------------------------------------------------------------------------------ */
  var C = D.curves;
  function curveSelection() {
    var sel = {};
    C.dims.forEach(function (d) {
      var el = document.getElementById("filter-" + d);
      sel[d] = el ? parseInt(el.value, 10) : -1;
    });
    return sel;
  }
  function drawCurves() {
    var sel = curveSelection();
    var acc = {};
    var n = C.x.length;
    for (var k = 0; k < n; k++) {
      var skip = false;
      for (var di = 0; di < C.dims.length; di++) {
        var d = C.dims[di];
        if (d !== "strategy" && sel[d] >= 0 && C.codes[d][k] !== sel[d]) { skip = true; break; }
      }
      if (skip) { continue; }
      var label = C.labels.strategy[C.codes.strategy[k]] + "@" + C.labels.implementation[C.codes.implementation[k]];
      var g = acc[label] || (acc[label] = {});
      var x = C.x[k], cnt = C.n[k], m = C.mean[k], s = C.sd[k];
      var p = g[x] || (g[x] = [0, 0, 0]);
      p[0] += cnt; p[1] += cnt * m; p[2] += s * s * (cnt - 1) + cnt * m * m;
    }
    var labels = Object.keys(acc).sort(function (a, b) {
      var ia = ORDER.indexOf(a), ib = ORDER.indexOf(b);
      return (ia < 0 ? 1e9 : ia) - (ib < 0 ? 1e9 : ib) || a.localeCompare(b);
    });
    var traces = [];
    labels.forEach(function (label) {
      var g = acc[label];
      var xs = Object.keys(g).map(Number).sort(function (a, b) { return a - b; });
      var ys = [], lo = [], hi = [], ns = [];
      xs.forEach(function (x) {
        var p = g[x], N = p[0], mean = p[1] / N;
        var v = N > 1 ? Math.max(0, (p[2] - N * mean * mean) / (N - 1)) : 0;
        var half = 1.96 * Math.sqrt(v / N);
        ys.push(mean); lo.push(mean - half); hi.push(mean + half); ns.push(N);
      });
      var col = color(label);
      traces.push({ x: xs.concat(xs.slice().reverse()), y: hi.concat(lo.slice().reverse()), type: "scatter",
        mode: "lines", fill: "toself", fillcolor: rgba(col, 0.12), line: { width: 0 }, hoverinfo: "skip",
        showlegend: false, legendgroup: label, name: label + " (95% band)" });
      traces.push({ x: xs, y: ys, type: "scatter", mode: "lines", name: label, legendgroup: label,
        line: { color: col, width: 2 }, customdata: ns,
        hovertemplate: label + "<br>labels %{x}<br>" + C.metric + " %{y:.4f}<br>n %{customdata}<extra></extra>" });
    });
    var plot = document.getElementById("curves-plot");
    plot.setAttribute("data-traces", String(labels.length));
    var title = labels.length ? "" : "no curves for this selection";
    Plotly.react(plot, traces, layout({
      height: 520, title: { text: title },
      xaxis: { title: { text: "number of labelled samples" }, gridcolor: "#eee", zeroline: false },
      yaxis: { title: { text: C.metric }, gridcolor: "#eee", zeroline: false },
      legend: { font: { size: 12 } }, margin: { l: 70, r: 20, t: 30, b: 60 } }), CFG);
  }
  if (C.available) {
    C.dims.forEach(function (d) {
      var el = document.getElementById("filter-" + d);
      if (el) { el.addEventListener("change", drawCurves); }
    });
    drawCurves();
  } else {
    note("curves-plot", C.note || "no curves");
  }

  /* ---- heatmap of per-dataset results --------------------------------------------------------------- */
  var H = D.heatmap;
  if (H.datasets.length) {
    var text = H.value.map(function (row) { return row.map(function (v) { return fmt(v, 3); }); });
    var custom = H.value.map(function (row, i) {
      return row.map(function (v, j) { return [fmt(v, 4), H.n[i][j] === null ? 0 : H.n[i][j]]; });
    });
    var hw = Math.max(900, 220 + 64 * H.labels.length);
    Plotly.newPlot("heatmap-plot", [{
      type: "heatmap", z: H.rank, x: H.labels, y: H.datasets, text: text, customdata: custom,
      texttemplate: "%{text}", textfont: { size: 12 }, colorscale: "Viridis", reversescale: true,
      colorbar: { title: { text: "rank" } }, xgap: 1, ygap: 1,
      hovertemplate: "dataset %{y}<br>strategy %{x}<br>mean " + D.metric + " " + D.summary +
        " %{customdata[0]}<br>rank %{z} (1 = best)<br>experiments %{customdata[1]}<extra></extra>"
    }], layout({ width: hw, height: 160 + 28 * H.datasets.length,
      xaxis: { tickangle: -35, automargin: true, tickfont: { size: 12 }, side: "bottom" },
      yaxis: { automargin: true, tickfont: { size: 12 }, autorange: "reversed" },
      margin: { l: 80, r: 20, t: 20, b: 120 } }), { displaylogo: false });
  } else {
    note("heatmap-plot", "no results to show");
  }

  /* ---- hyperparameter impact ------------------------------------------------------------------------ */
  var I = D.impact;
  var MEASURES = ["variance_share", "variance_share_within", "kendall_tau", "tau_vs_all", "pearson", "jaccard"];
  var MEASURE_TICKS = ["variance<br>share", "variance share<br>within", "kendall<br>tau", "tau vs<br>all", "pearson", "jaccard"];
  if (I.rows.length) {
    var params = I.rows.map(function (r) { return r.param + " (" + r.n_values + ")"; });
    var z = I.rows.map(function (r) { return MEASURES.map(function (m) { return r[m]; }); });
    var itext = z.map(function (row) { return row.map(function (v) { return fmt(v, 2); }); });
    var desc = D.impact_help;
    var icustom = I.rows.map(function () { return MEASURES.map(function (m) { return [m, desc[m]]; }); });
    Plotly.newPlot("impact-plot", [{
      type: "heatmap", z: z, x: MEASURE_TICKS, y: params, text: itext, customdata: icustom,
      texttemplate: "%{text}", textfont: { size: 13 }, zmin: -1, zmax: 1, colorscale: "RdBu", xgap: 2, ygap: 2,
      colorbar: { title: { text: "score" } },
      hovertemplate: "%{y}<br>%{customdata[0]} = %{text}<br>%{customdata[1]}<extra></extra>"
    }], layout({ height: 140 + 36 * params.length, xaxis: { side: "top", tickfont: { size: 13 } },
      yaxis: { automargin: true, autorange: "reversed", tickfont: { size: 13 } },
      margin: { l: 140, r: 20, t: 60, b: 20 } }), CFG);
  } else {
    note("impact-plot", "every hyperparameter has a single value in this store");
  }

  /* ---- critical difference diagram ------------------------------------------------------------------ */
  var CD = D.cd;
  if (CD.rows) {
    /* Drawn with shapes in paper x (so lines reach the labels outside the rank axis) and data y. */
    var k = CD.rows.length, half = Math.ceil(k / 2), nc = CD.cliques.length;
    var labelsCd = CD.rows.map(function (r) { return r.strategy + "@" + r.implementation; });
    var maxLen = Math.max.apply(null, labelsCd.map(function (s) { return s.length; })) + 6;
    var width = document.getElementById("cd-plot").clientWidth || 900;
    var frac = Math.min(0.35, (7.5 * maxLen + 40) / width);
    var d0 = frac, d1 = 1 - frac, lo = 1, hi = Math.max(k, 2), step = 0.5;
    var px = function (r) { return d0 + (r - lo) / (hi - lo) * (d1 - d0); };
    var top = -(0.45 + 0.3 * nc);
    var shapes = [], ann = [];
    var line = function (x0, y0, x1, y1, color, width) {
      shapes.push({ type: "line", xref: "paper", yref: "y", x0: x0, y0: y0, x1: x1, y1: y1,
        line: { color: color, width: width } });
    };
    CD.rows.forEach(function (r, i) {
      var left = i < half;
      var y = top - step * (left ? i : k - 1 - i);
      var xe = left ? d0 - 0.03 : d1 + 0.03;
      line(px(r.mean_rank), 0, px(r.mean_rank), y, "#333", 1.3);
      line(px(r.mean_rank), y, xe, y, "#333", 1.3);
      ann.push({ x: xe, y: y, xref: "paper", yref: "y", showarrow: false, xanchor: left ? "right" : "left",
        text: left ? labelsCd[i] + " (" + fmt(r.mean_rank, 2) + ")" : "(" + fmt(r.mean_rank, 2) + ") " + labelsCd[i],
        font: { size: 13 } });
    });
    CD.cliques.forEach(function (cl, j) {
      var ranks = CD.rows.filter(function (r) { return cl.indexOf(r.strategy + "@" + r.implementation) >= 0; })
        .map(function (r) { return r.mean_rank; });
      var y = -0.25 - 0.3 * j;
      line(px(Math.min.apply(null, ranks)) - 0.005, y, px(Math.max.apply(null, ranks)) + 0.005, y, "#c0392b", 5);
    });
    var cdEnd = Math.min(hi, lo + CD.cd);
    line(px(lo), 0.55, px(cdEnd), 0.55, "#000", 2);
    line(px(lo), 0.45, px(lo), 0.65, "#000", 2);
    line(px(cdEnd), 0.45, px(cdEnd), 0.65, "#000", 2);
    ann.push({ x: (px(lo) + px(cdEnd)) / 2, y: 0.8, xref: "paper", yref: "y", showarrow: false,
      text: "CD = " + fmt(CD.cd, 2), font: { size: 13 } });
    var every = Math.max(1, Math.ceil(28 * (hi - lo) / Math.max(1, (d1 - d0) * width)));
    var ticks = []; for (var t = 1; t <= hi; t += every) { ticks.push(t); }
    var bottom = top - step * (half - 1) - 0.4, ytop = 1.6;
    var hover = { x: CD.rows.map(function (r) { return r.mean_rank; }), y: CD.rows.map(function () { return 0; }),
      type: "scatter", mode: "markers", marker: { size: 9, color: "#333" }, cliponaxis: false, showlegend: false,
      text: CD.rows.map(function (r, i) {
        return labelsCd[i] + "<br>mean rank " + fmt(r.mean_rank, 3) + "<br>mean value " + fmt(r.mean_value, 4);
      }), hovertemplate: "%{text}<extra></extra>" };
    Plotly.newPlot("cd-plot", [hover], layout({
      height: Math.max(240, 60 + 56 * (ytop - bottom)), annotations: ann, shapes: shapes,
      xaxis: { domain: [d0, d1], range: [lo, hi], anchor: "free", position: (0 - bottom) / (ytop - bottom),
        side: "top", tickvals: ticks, showgrid: false, zeroline: false, showline: true, ticks: "outside",
        tickfont: { size: 13 }, fixedrange: true },
      yaxis: { range: [bottom, ytop], visible: false, fixedrange: true },
      margin: { l: 10, r: 10, t: 10, b: 10 } }), CFG);
  } else {
    note("cd-plot", "not computed: " + (CD.error || "no data"));
  }

  /* ---- stability --------------------------------------------------------------------------------------- */
  var S = D.stability;
  if (S.curve && S.curve.length) {
    var ks = S.curve.map(function (r) { return r.k; });
    Plotly.newPlot("stability-plot", [
      { x: ks.concat(ks.slice().reverse()), y: S.curve.map(function (r) { return r.p90; })
        .concat(S.curve.map(function (r) { return r.p10; }).reverse()), fill: "toself", type: "scatter",
        mode: "lines", line: { width: 0 }, fillcolor: "rgba(31,119,180,0.18)", hoverinfo: "skip", name: "p10–p90" },
      { x: ks, y: S.curve.map(function (r) { return r.mean; }), type: "scatter", mode: "lines+markers",
        name: "mean tau", line: { color: "#1f77b4" },
        hovertemplate: "k %{x}<br>mean tau %{y:.3f}<extra></extra>" },
      { x: [ks[0], ks[ks.length - 1]], y: [S.target, S.target], type: "scatter", mode: "lines",
        name: "target " + S.target, line: { dash: "dash", color: "#c0392b" } }
    ], layout({ height: 380, xaxis: { type: "log", tickvals: ks, title: { text: "k (random " + S.unit + " units)" } },
      yaxis: { title: { text: "Kendall tau vs full leaderboard" }, range: [-0.05, 1.05] },
      legend: { orientation: "h", y: 1.12 } }), CFG);
  } else {
    note("stability-plot", "not enough units to resample");
  }

  /* ---- runtime and failures ------------------------------------------------------------------------- */
  var R = D.runtime;
  if (R.by_strategy.length) {
    var rs = R.by_strategy.slice().sort(function (a, b) {
      return ((a.fit_s_per_cycle || 0) + (a.query_s_per_cycle || 0)) - ((b.fit_s_per_cycle || 0) + (b.query_s_per_cycle || 0));
    });
    var names = rs.map(function (r) { return r.strategy + "@" + r.implementation; });
    var h = 120 + 26 * names.length;
    Plotly.newPlot("runtime-plot", [
      { type: "bar", orientation: "h", y: names, x: rs.map(function (r) { return r.fit_s_per_cycle; }), name: "fit s / cycle",
        marker: { color: "#1f77b4" }, hovertemplate: "%{y}<br>fit %{x:.4g} s per cycle<extra></extra>" },
      { type: "bar", orientation: "h", y: names, x: rs.map(function (r) { return r.query_s_per_cycle; }), name: "query s / cycle",
        marker: { color: "#ff7f0e" }, hovertemplate: "%{y}<br>query %{x:.4g} s per cycle<extra></extra>" }
    ], layout({ barmode: "stack", height: h, legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" },
      xaxis: { title: { text: "seconds per cycle" }, gridcolor: "#eee" }, yaxis: { automargin: true },
      margin: { l: 60, r: 20, t: 40, b: 50 } }), CFG);
    var fs = R.by_strategy.slice().sort(function (a, b) { return (b.failed + b.timeout) - (a.failed + a.timeout); });
    var fnames = fs.map(function (r) { return r.strategy + "@" + r.implementation; });
    var st = [["ok", "#2ca02c"], ["failed", "#d62728"], ["timeout", "#9467bd"]].map(function (p) {
      return { type: "bar", orientation: "h", y: fnames, x: fs.map(function (r) { return r[p[0]]; }), name: p[0],
        marker: { color: p[1] }, hovertemplate: "%{y}<br>" + p[0] + " %{x}<extra></extra>" };
    });
    Plotly.newPlot("failures-plot", st, layout({ barmode: "stack", height: 120 + 26 * fnames.length,
      legend: { orientation: "h", x: 0, y: 1.0, yanchor: "bottom" }, xaxis: { title: { text: "experiments" } },
      yaxis: { automargin: true, autorange: "reversed" }, margin: { l: 60, r: 20, t: 40, b: 50 } }), CFG);
  } else {
    note("runtime-plot", "no runs");
  }
  document.body.setAttribute("data-ready", "1");
})();
