/* Usage dashboard charts: small SVG line and bar charts drawn from the page's JSON, no libraries.
   Written for this project (no CDN, so the admin works offline). */
(function () {
  "use strict";
  var SVG = "http://www.w3.org/2000/svg";
  var COLOURS = ["#417690", "#ba2121", "#e0a526", "#5b8a3c"];
  var WIDTH = 560, HEIGHT = 220, PAD = {top: 12, right: 12, bottom: 34, left: 56};

  function el(name, attrs, parent, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attrs || {}).forEach(function (key) { node.setAttribute(key, attrs[key]); });
    if (text !== undefined) { node.textContent = text; }
    if (parent) { parent.appendChild(node); }
    return node;
  }

  function short(n) {
    if (n >= 1e6) { return (n / 1e6).toFixed(1).replace(/\.0$/, "") + "M"; }
    if (n >= 1e3) { return (n / 1e3).toFixed(1).replace(/\.0$/, "") + "k"; }
    return String(n);
  }

  function niceMax(value) {
    if (value <= 0) { return 1; }
    var step = Math.pow(10, Math.floor(Math.log10(value)));
    var candidates = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < candidates.length; i++) {
      if (candidates[i] * step >= value) { return candidates[i] * step; }
    }
    return 10 * step;
  }

  function svgFor(root, height) {
    return el("svg", {"class": "usage-svg", viewBox: "0 0 " + WIDTH + " " + height, role: "img",
                      "aria-label": root.getAttribute("aria-label") || root.id}, root);
  }

  function line(root, rows, fields) {
    var svg = svgFor(root, HEIGHT);
    var plotW = WIDTH - PAD.left - PAD.right, plotH = HEIGHT - PAD.top - PAD.bottom;
    var top = niceMax(Math.max.apply(null, [0].concat(rows.map(function (r) {
      return Math.max.apply(null, fields.map(function (f) { return r[f] || 0; }));
    }))));
    var x = function (i) { return PAD.left + (rows.length < 2 ? plotW / 2 : i * plotW / (rows.length - 1)); };
    var y = function (v) { return PAD.top + plotH - (v / top) * plotH; };
    [0, 0.5, 1].forEach(function (share) {
      el("line", {"class": "grid", x1: PAD.left, x2: WIDTH - PAD.right, y1: y(top * share), y2: y(top * share)}, svg);
      el("text", {"class": "axis", x: PAD.left - 6, y: y(top * share) + 4, "text-anchor": "end"}, svg, short(top * share));
    });
    [0, Math.floor((rows.length - 1) / 2), rows.length - 1].filter(function (i, n, all) {
      return i >= 0 && all.indexOf(i) === n;
    }).forEach(function (i) {
      var anchor = rows.length < 2 ? "middle" : (i === 0 ? "start" : (i === rows.length - 1 ? "end" : "middle"));
      el("text", {"class": "axis", x: x(i), y: HEIGHT - 10, "text-anchor": anchor}, svg, rows[i].label);
    });
    fields.forEach(function (field, n) {
      var colour = COLOURS[n % COLOURS.length];
      var d = rows.map(function (r, i) { return (i ? "L" : "M") + x(i).toFixed(1) + " " + y(r[field] || 0).toFixed(1); });
      el("path", {"class": "series", "data-field": field, d: d.join(" "), fill: "none", stroke: colour, "stroke-width": 2}, svg);
      rows.forEach(function (r, i) {
        var point = el("circle", {"class": "point", "data-field": field, "data-value": r[field] || 0,
                                  cx: x(i), cy: y(r[field] || 0), r: 3, fill: colour}, svg);
        el("title", {}, point, r.label + ": " + (r[field] || 0) + " " + field.replace("_", " "));
      });
      // A swatch and the name in the line's colour; set as a style, which the admin's stylesheet
      // (text fill) cannot override as it does a plain fill attribute.
      var key = el("g", {"class": "legend", "data-field": field}, svg);
      el("rect", {"class": "legend-swatch", x: PAD.left + 4 + n * 120, y: PAD.top + 2, width: 12, height: 8,
                  style: "fill: " + colour}, key);
      el("text", {"class": "legend-label", x: PAD.left + 20 + n * 120, y: PAD.top + 10, style: "fill: " + colour},
         key, field.replace("_", " "));
    });
  }

  function bars(root, rows, field) {
    var rowH = 22, height = Math.max(rowH, rows.length * rowH) + 8;
    var svg = svgFor(root, height);
    if (!rows.length) {
      el("text", {"class": "empty", x: WIDTH / 2, y: 18, "text-anchor": "middle"}, svg, "No usage in this period");
      return;
    }
    var labelW = 170, plotW = WIDTH - labelW - 70;
    var top = Math.max.apply(null, rows.map(function (r) { return r[field] || 0; })) || 1;
    rows.forEach(function (r, i) {
      var yPos = 4 + i * rowH, width = Math.max(1, (r[field] || 0) / top * plotW);
      el("text", {"class": "axis", x: labelW - 6, y: yPos + 14, "text-anchor": "end"}, svg, r.label);
      var bar = el("rect", {"class": "bar", "data-value": r[field] || 0, x: labelW, y: yPos + 3, width: width, height: rowH - 8,
                            fill: COLOURS[0]}, svg);
      el("title", {}, bar, r.label + ": " + (r[field] || 0));
      el("text", {"class": "value", x: labelW + width + 6, y: yPos + 14}, svg, short(r[field] || 0));
    });
  }

  function draw() {
    var source = document.getElementById("usage-data");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    Array.prototype.forEach.call(document.querySelectorAll(".chart[data-kind]"), function (root) {
      var rows = data[root.getAttribute("data-source")] || [];
      var fields = root.getAttribute("data-fields").split(",");
      root.textContent = "";
      if (root.getAttribute("data-kind") === "line") { line(root, rows, fields); } else { bars(root, rows, fields[0]); }
      root.setAttribute("data-drawn", "true");
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
