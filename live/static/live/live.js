/* The live view: snapshots pushed over a WebSocket; when it cannot connect, the same snapshot is
   polled from the JSON endpoint. Written for this project (no libraries, no CDN). */
(function () {
  "use strict";
  var page = document.querySelector(".live-page");
  var pollMs = Number(page.dataset.pollSeconds) * 1000;
  var RETRY_SOCKET_MS = 15000;
  var socket = null, pollTimer = null, seen = {};

  function text(id, value) { document.getElementById(id).textContent = value; }

  function short(n) {
    if (n >= 1e6) { return (n / 1e6).toFixed(1).replace(/\.0$/, "") + "M"; }
    if (n >= 1e4) { return (n / 1e3).toFixed(1).replace(/\.0$/, "") + "k"; }
    return String(n);
  }

  function setMode(mode, label) {
    var node = document.getElementById("live-mode");
    node.dataset.mode = mode;
    node.textContent = label;
  }

  function cell(row, value, cls) {
    var td = document.createElement("td");
    td.textContent = value;
    if (cls) { td.className = cls; td.title = value; }
    row.appendChild(td);
  }

  function fill(tbody, rows, columns, empty) {
    tbody.textContent = "";
    if (!rows.length) {
      var tr = document.createElement("tr");
      tr.className = "live-empty";
      cell(tr, empty);
      tr.firstChild.colSpan = columns;
      tbody.appendChild(tr);
    }
    return tbody;
  }

  function render(data) {
    var t = data.totals;
    text("tile-rps", t.requests_per_second.toFixed(t.requests_per_second < 10 ? 1 : 0));
    text("tile-requests", short(t.requests));
    text("tile-errors", short(t.errors));
    text("tile-limited", short(t.limited));
    text("tile-tpm", short(t.tokens_per_minute));
    text("tile-streams", short(t.streams_open));
    document.getElementById("tile-errors").classList.toggle("nonzero", t.errors > 0);
    document.getElementById("tile-limited").classList.toggle("nonzero", t.limited > 0);
    text("live-processes", data.processes);
    var problem = document.getElementById("live-problem");
    problem.hidden = !data.problem;
    problem.textContent = data.problem || "";
    text("live-updated", "updated " + new Date().toISOString().slice(11, 19) + " UTC");

    var endpoints = fill(document.querySelector("#live-endpoints tbody"), data.endpoints, 7, "No requests in the last minute.");
    data.endpoints.forEach(function (e) {
      var tr = document.createElement("tr");
      tr.className = "live-endpoint";
      tr.dataset.endpoint = e.endpoint;
      [e.endpoint, e.requests_per_second.toFixed(1), e.requests, e.errors, e.limited, e.tokens, e.streams_open]
        .forEach(function (v) { cell(tr, v); });
      endpoints.appendChild(tr);
    });

    var recent = fill(document.querySelector("#live-recent tbody"), data.recent, 8, "No requests since this page opened.");
    var now = {};
    data.recent.forEach(function (r) {
      var id = [r.time, r.endpoint, r.client_ip, r.key, r.status, r.duration_ms].join("|");
      var tr = document.createElement("tr");
      tr.className = "live-row" + (r.error ? " error" : "") + (r.status === 429 ? " limited" : "") + (seen[id] ? "" : " fresh");
      tr.dataset.status = r.status;
      now[id] = true;
      cell(tr, new Date(r.time * 1000).toISOString().slice(11, 19));
      cell(tr, r.endpoint);
      cell(tr, r.client_ip);
      cell(tr, r.key || "–", "key");
      cell(tr, r.model || "–", "model");
      cell(tr, r.status);
      cell(tr, r.tokens);
      cell(tr, Math.round(r.duration_ms));
      recent.appendChild(tr);
    });
    seen = now;
  }

  function poll() {
    fetch(page.dataset.snapshotUrl, {credentials: "same-origin", cache: "no-store"})
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.json();
      })
      .then(function (data) {
        if (!socket) { setMode("polling", "polling every " + pollMs / 1000 + " s (WebSocket unavailable)"); }
        render(data);
      })
      .catch(function (error) { setMode("off", "cannot reach the relay: " + error.message); });
  }

  function startPolling() {
    if (pollTimer === null) {
      poll();
      pollTimer = setInterval(poll, pollMs);
    }
  }

  function stopPolling() {
    if (pollTimer !== null) { clearInterval(pollTimer); pollTimer = null; }
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var opened = false, ws;
    try {
      ws = new WebSocket(scheme + location.host + page.dataset.socketPath);
    } catch (error) {
      startPolling();
      setTimeout(connect, RETRY_SOCKET_MS);
      return;
    }
    ws.onopen = function () {
      opened = true;
      socket = ws;
      stopPolling();
      setMode("websocket", "live (WebSocket)");
    };
    ws.onmessage = function (event) { render(JSON.parse(event.data)); };
    ws.onclose = function () {
      socket = null;
      startPolling();
      if (opened) { setMode("polling", "polling every " + pollMs / 1000 + " s (WebSocket closed)"); }
      setTimeout(connect, RETRY_SOCKET_MS);  // back to live updates once the socket answers again
    };
  }

  connect();
}());
