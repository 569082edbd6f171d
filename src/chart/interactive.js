// greatgame: draws the figures of a report with uPlot (assets/uplot, MIT licence).
//
// Each .gg-figure element holds its figure as JSON, in a script element of type
// application/json: panels of series, each series a mean line and, where it has one, the
// band from the 5th to the 95th percentile. One uPlot chart per panel; the panels of a figure share a
// cursor, the hiding of a series (click its name in a legend) and the zoom of the time
// axis (drag across a chart; double-click to zoom out).
(function () {
  "use strict";

  function fmt(v) {
    if (v === null || v === undefined || !isFinite(v)) return "\u2013";
    var a = Math.abs(v);
    if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
    var digits = a >= 100 ? 1 : a >= 1 ? 3 : 4;
    return String(parseFloat(v.toFixed(digits)));
  }

  // Decimal year of a quarter's start -> "2029Q4".
  function quarter(x) {
    var year = Math.floor(x + 1e-9);
    var q = Math.round((x - year) * 4) + 1;
    return year + "Q" + q;
  }

  function rgba(hex, alpha) {
    var n = parseInt(hex.slice(1), 16);
    return "rgba(" + ((n >> 16) & 255) + "," + ((n >> 8) & 255) + "," + (n & 255) + "," + alpha + ")";
  }

  // Bands, drawn under the lines (after the axes and grid), for the series shown.
  function bandsPlugin(panel) {
    return {
      hooks: {
        drawAxes: function (u) {
          var ctx = u.ctx;
          ctx.save();
          ctx.beginPath();
          ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
          ctx.clip();
          panel.series.forEach(function (s, i) {
            if (!s.band || !u.series[i + 1].show) return;
            var xs = panel.x;
            var pts = [];
            for (var j = 0; j < xs.length; j++) {
              if (s.lo[j] !== null && s.hi[j] !== null) pts.push(j);
            }
            if (pts.length < 2) return;
            ctx.beginPath();
            pts.forEach(function (j, k) {
              var px = u.valToPos(xs[j], "x", true);
              var py = u.valToPos(s.hi[j], "y", true);
              if (k === 0) ctx.moveTo(px, py);
              else ctx.lineTo(px, py);
            });
            for (var k = pts.length - 1; k >= 0; k--) {
              var j = pts[k];
              ctx.lineTo(u.valToPos(xs[j], "x", true), u.valToPos(s.lo[j], "y", true));
            }
            ctx.closePath();
            ctx.fillStyle = rgba(s.color, 0.2);
            ctx.fill();
          });
          ctx.restore();
        },
      },
    };
  }

  function draw(root) {
    var spec = JSON.parse(root.querySelector("script[type='application/json']").textContent);
    var grid = root.querySelector(".gg-panels");
    var charts = [];
    var syncing = false;
    var timeAxis = !spec.x_desc;
    var width = function () {
      var cols = Math.max(1, Math.min(spec.columns, Math.floor(grid.clientWidth / 330) || 1));
      return Math.max(280, Math.floor(grid.clientWidth / cols) - 16);
    };
    spec.panels.forEach(function (panel) {
      var cell = document.createElement("div");
      cell.className = "gg-panel";
      if (panel.title) {
        var h = document.createElement("div");
        h.className = "gg-panel-title";
        h.textContent = panel.title;
        cell.appendChild(h);
      }
      grid.appendChild(cell);
      var series = [
        {
          label: timeAxis ? "Quarter" : spec.x_desc,
          value: function (u, v) {
            return v === null ? "\u2013" : timeAxis ? quarter(v) : fmt(v);
          },
        },
      ];
      panel.series.forEach(function (s) {
        series.push({
          label: s.label,
          stroke: s.color,
          width: s.dashed ? 1.5 : 2,
          dash: s.dashed ? [8, 5] : undefined,
          spanGaps: false,
          points: { show: false },
          value: function (u, v, si, idx) {
            if (v === null || v === undefined) return "\u2013";
            if (!s.band || idx === null || s.lo[idx] === null) return fmt(v);
            return fmt(v) + " [" + fmt(s.lo[idx]) + "\u2013" + fmt(s.hi[idx]) + "]";
          },
        });
      });
      var data = [panel.x].concat(
        panel.series.map(function (s) {
          return s.mean;
        })
      );
      var opts = {
        width: width(),
        height: spec.panels.length > 1 ? 240 : 320,
        series: series,
        scales: {
          x: { time: false },
          y: { range: [panel.y_range[0], panel.y_range[1]] },
        },
        axes: [
          {
            label: spec.x_desc || undefined,
            incrs: timeAxis ? [0.25, 0.5, 1, 2, 5, 10, 20, 50] : undefined,
            values: function (u, splits) {
              return splits.map(function (v) {
                if (!timeAxis) return fmt(v);
                return Math.abs(v - Math.round(v)) < 1e-9 ? String(Math.round(v)) : quarter(v);
              });
            },
          },
          { label: panel.y_desc, labelSize: 30, size: 60, values: function (u, splits) { return splits.map(fmt); } },
        ],
        cursor: { sync: { key: root.id, setSeries: true }, drag: { x: true, y: false } },
        legend: { live: true },
        plugins: [bandsPlugin(panel)],
        hooks: {
          setScale: [
            function (u, key) {
              if (key !== "x" || syncing) return;
              syncing = true;
              var min = u.scales.x.min;
              var max = u.scales.x.max;
              charts.forEach(function (other) {
                if (other !== u) other.setScale("x", { min: min, max: max });
              });
              syncing = false;
            },
          ],
        },
      };
      charts.push(new uPlot(opts, data, cell));
    });
    window.addEventListener("resize", function () {
      charts.forEach(function (u) {
        u.setSize({ width: width(), height: u.height });
      });
    });
    root.setAttribute("data-drawn", String(charts.length));
  }

  function drawAll() {
    var figures = document.querySelectorAll(".gg-figure");
    for (var i = 0; i < figures.length; i++) {
      try {
        draw(figures[i]);
      } catch (e) {
        figures[i].setAttribute("data-error", String(e));
        throw e;
      }
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
})();
