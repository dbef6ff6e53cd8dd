// tapline console: the small script that makes pages live. Every page works without it.
(function () {
  "use strict";

  // ---- Times: the viewer's zone (named), or UTC when the switch is on ----
  var utcKey = "tapline.utc";
  function useUTC() { try { return localStorage.getItem(utcKey) === "1"; } catch (e) { return false; } }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function formatTime(date) {
    if (useUTC()) {
      return date.getUTCFullYear() + "-" + pad(date.getUTCMonth() + 1) + "-" + pad(date.getUTCDate()) + " " +
        pad(date.getUTCHours()) + ":" + pad(date.getUTCMinutes()) + ":" + pad(date.getUTCSeconds()) + " UTC";
    }
    var zone = "";
    try {
      var parts = new Intl.DateTimeFormat(undefined, { timeZoneName: "short" }).formatToParts(date);
      for (var i = 0; i < parts.length; i++) { if (parts[i].type === "timeZoneName") { zone = parts[i].value; } }
      var name = Intl.DateTimeFormat().resolvedOptions().timeZone;
      if (name && zone.indexOf(name) < 0) { zone = zone + " (" + name + ")"; }
    } catch (e) { zone = ""; }
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()) + " " +
      pad(date.getHours()) + ":" + pad(date.getMinutes()) + ":" + pad(date.getSeconds()) + (zone ? " " + zone : "");
  }
  function relative(date) {
    var seconds = (date.getTime() - Date.now()) / 1000, size = Math.abs(seconds), text;
    if (size < 45) { return seconds >= 0 ? "in a few seconds" : "just now"; }
    if (size < 3600) { text = Math.round(size / 60) + " min"; }
    else if (size < 172800) { var h = size / 3600; text = (h < 10 ? Math.round(h * 10) / 10 : Math.round(h)) + " h"; }
    else { text = Math.round(size / 86400) + " days"; }
    return seconds >= 0 ? "in " + text : text + " ago";
  }
  function localizeTimes(root) {
    var times = root.querySelectorAll("time[datetime]");
    for (var i = 0; i < times.length; i++) {
      var date = new Date(times[i].getAttribute("datetime"));
      if (!isNaN(date)) { times[i].textContent = formatTime(date); times[i].title = times[i].getAttribute("datetime"); }
    }
    var rels = root.querySelectorAll("[data-rel]");
    for (var j = 0; j < rels.length; j++) {
      var d = new Date(rels[j].getAttribute("data-rel"));
      if (!isNaN(d)) { rels[j].textContent = relative(d); }
    }
  }

  // ---- Live: a server-sent event stream tells the page to fetch itself again ----
  var source = null, pollTimer = null, refreshTimer = null, refreshing = false, stopped = false;
  var status = null;
  function say(text) { if (status) { status.hidden = !text; status.textContent = text || ""; } }

  function keepState(region) {
    var kept = { checked: {}, values: {}, focus: null };
    var boxes = region.querySelectorAll("input[type=checkbox]");
    for (var i = 0; i < boxes.length; i++) { if (boxes[i].checked) { kept.checked[boxes[i].name + "=" + boxes[i].value] = true; } }
    var inputs = region.querySelectorAll("input[type=text]");
    for (var j = 0; j < inputs.length; j++) { if (inputs[j].id) { kept.values[inputs[j].id] = inputs[j].value; } }
    var active = document.activeElement;
    if (active && region.contains(active)) { kept.focus = active.id || null; }
    return kept;
  }
  function restoreState(region, kept) {
    var boxes = region.querySelectorAll("input[type=checkbox]");
    for (var i = 0; i < boxes.length; i++) { if (kept.checked[boxes[i].name + "=" + boxes[i].value]) { boxes[i].checked = true; } }
    for (var id in kept.values) { var input = document.getElementById(id); if (input) { input.value = kept.values[id]; } }
    if (kept.focus) { var f = document.getElementById(kept.focus); if (f) { f.focus(); } }
  }

  function refresh() {
    var region = document.getElementById("live");
    if (!region || refreshing || stopped) { return; }
    refreshing = true;
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } }).then(function (response) {
      if (response.redirected && response.url.indexOf("/ui/signin") >= 0) {
        stopLive(); say("Signed out: reload the page to sign in again."); return null;
      }
      if (!response.ok) { say("Could not refresh (" + response.status + "); retrying."); return null; }
      return response.text();
    }).then(function (html) {
      if (html === null || html === undefined) { return; }
      var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("live");
      if (!fresh) { return; }
      var kept = keepState(region);
      region.innerHTML = fresh.innerHTML;
      restoreState(region, kept);
      localizeTimes(region);
      wireSelection();
      say("");
    }).catch(function () { say("Connection lost; retrying."); }).then(function () { refreshing = false; });
  }
  function scheduleRefresh() {
    if (refreshTimer) { return; }
    refreshTimer = setTimeout(function () { refreshTimer = null; refresh(); }, 150);
  }
  function startPolling() {
    if (pollTimer) { return; }
    say("Live updates are busy; this page refreshes every 5 s.");
    pollTimer = setInterval(refresh, 5000);
  }
  function startLive() {
    if (stopped || source || document.hidden || !window.EventSource || !document.getElementById("live")) { return; }
    source = new EventSource("/ui/events");
    source.addEventListener("changed", scheduleRefresh);
    source.onopen = function () { if (pollTimer) { clearInterval(pollTimer); pollTimer = null; } say(""); };
    source.onerror = function () {
      // Closed for good (a 503: too many live pages, or signed out): poll instead.
      if (source && source.readyState === EventSource.CLOSED) { source = null; startPolling(); }
    };
  }
  function pauseLive() {
    if (source) { source.close(); source = null; }
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }
  function stopLive() { stopped = true; pauseLive(); }

  // ---- Selection for bulk actions ----
  function wireSelection() {
    var all = document.getElementById("select-page");
    if (!all) { return; }
    all.checked = false;
    all.addEventListener("change", function () {
      var boxes = document.querySelectorAll("input[name=id][form=bulk]");
      for (var i = 0; i < boxes.length; i++) { boxes[i].checked = all.checked; }
    });
  }

  // ---- A job's log: tail from the byte offset the page was rendered at ----
  var tailTimer = null;
  function tailLog() {
    var log = document.getElementById("log");
    if (!log || log.getAttribute("data-running") !== "true") { return; }
    var follow = document.getElementById("follow-switch");
    var busy = false;
    function step() {
      if (busy || document.hidden) { return; }
      busy = true;
      var url = log.getAttribute("data-tail") + "?offset=" + encodeURIComponent(log.getAttribute("data-offset"));
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.ok ? r.json() : null; }).then(function (data) {
        if (!data) { return; }
        if (data.reset) { location.reload(); return; }
        for (var i = 0; i < data.lines.length; i++) {
          var line = document.createElement("span");
          line.className = "line";
          line.textContent = data.lines[i];
          log.appendChild(line);
          log.appendChild(document.createTextNode("\n"));
        }
        // Only the last few thousand lines stay rendered.
        while (log.childNodes.length > 10000) { log.removeChild(log.firstChild); }
        log.setAttribute("data-offset", String(data.offset));
        if (follow && follow.checked && data.lines.length) { log.scrollTop = log.scrollHeight; }
        if (!data.running) {
          clearInterval(tailTimer); tailTimer = null;
          log.setAttribute("data-running", "false");
          var note = document.getElementById("tail-status");
          if (note) { note.textContent = "The job ended (" + data.status + ")."; }
          var badge = document.getElementById("job-status");
          if (badge) { badge.textContent = data.status; badge.className = "result " + data.status; }
        }
      }).catch(function () {}).then(function () { busy = false; });
    }
    tailTimer = setInterval(step, 1000);
    if (follow && follow.checked) { log.scrollTop = log.scrollHeight; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    status = document.getElementById("live-status");
    var utc = document.getElementById("utc-switch");
    if (utc) {
      utc.checked = useUTC();
      utc.addEventListener("change", function () {
        try { localStorage.setItem(utcKey, utc.checked ? "1" : "0"); } catch (e) {}
        localizeTimes(document);
      });
    }
    localizeTimes(document);
    setInterval(function () { localizeTimes(document); }, 30000);
    wireSelection();
    var wrap = document.getElementById("wrap-switch"), log = document.getElementById("log");
    if (wrap && log) { wrap.addEventListener("change", function () { log.classList.toggle("wrap", wrap.checked); }); }
    tailLog();
    if (document.body.getAttribute("data-live") === "1") {
      startLive();
      document.addEventListener("visibilitychange", function () {
        if (document.hidden) { pauseLive(); } else { refresh(); startLive(); }
      });
      // Leaving the page closes its stream at once: a browser keeps six connections to a
      // server, and streams left open stall the next page loads.
      window.addEventListener("pagehide", pauseLive);
      window.addEventListener("pageshow", function (e) { if (e.persisted) { refresh(); startLive(); } });
    }
  });
})();
