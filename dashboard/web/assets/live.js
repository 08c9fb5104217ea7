// Jibe dashboard: follows the agent's event stream and replaces the parts
// of the page that an event changes (a matrix row, an application's main
// section), and filters the matrix as you type. No dependencies.
"use strict";
(function () {
  const body = document.body;
  const live = document.getElementById("live");
  const pending = new Map(); // key → timer: one refresh per key at a time

  function setLive(state, text) {
    if (!live) return;
    live.dataset.state = state;
    live.textContent = text;
  }

  // appOf returns "source/name" of an event's application, whatever shape
  // the event gives it.
  function appOf(ev) {
    const a = ev.app !== undefined ? ev.app : ev.App;
    if (typeof a === "string") return ev.source ? ev.source + "/" + a : a;
    if (a && typeof a === "object") return (a.source || a.Source) ? (a.source || a.Source) + "/" + (a.name || a.Name) : (a.name || a.Name);
    return ev.id || ev.appId || "";
  }

  function later(key, fn) {
    if (pending.has(key)) return;
    pending.set(key, setTimeout(function () { pending.delete(key); fn(); }, 150));
  }

  async function fetchHTML(url) {
    const res = await fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } });
    if (!res.ok) throw new Error(res.status + " " + url);
    return res.text();
  }

  function refreshRow(tr) {
    const table = document.getElementById("matrix");
    const link = tr.querySelector("a");
    const url = link.getAttribute("href") + "?fragment=row&cols=" + encodeURIComponent(table.dataset.cols);
    fetchHTML(url).then(function (html) {
      const tmp = document.createElement("tbody");
      tmp.innerHTML = html.trim();
      const fresh = tmp.firstElementChild;
      if (!fresh) return;
      tr.replaceWith(fresh);
      applyFilter();
      body.dataset.updated = String(Date.now());
    }).catch(function () { setLive("error", "update failed"); });
  }

  function refreshApp(main) {
    fetchHTML(location.pathname + "?fragment=main").then(function (html) {
      main.innerHTML = html;
      body.dataset.updated = String(Date.now());
    }).catch(function () { setLive("error", "update failed"); });
  }

  function onEvent(msg) {
    let ev;
    try { ev = JSON.parse(msg.data); } catch (e) { return; }
    const app = appOf(ev);
    const main = document.getElementById("appmain");
    if (main && (app === "" || main.dataset.app === app)) {
      later("main", function () { refreshApp(main); });
    }
    if (app === "") return;
    const tr = document.querySelector('tr[data-app="' + CSS.escape(app) + '"]');
    if (tr) later(app, function () { refreshRow(tr.isConnected ? tr : document.querySelector('tr[data-app="' + CSS.escape(app) + '"]')); });
  }

  function connect() {
    const url = body.dataset.events;
    if (!url || !window.EventSource) { setLive("off", "not live"); return; }
    const es = new EventSource(url, { withCredentials: true });
    es.onopen = function () { setLive("on", "live"); };
    es.onerror = function () { setLive("error", "reconnecting…"); };
    es.onmessage = onEvent;
    for (const kind of (body.dataset.eventKinds || "").split(" ")) {
      if (kind) es.addEventListener(kind, onEvent);
    }
  }

  // The matrix filters as you type; the form still works without script.
  function applyFilter() {
    const form = document.getElementById("filters");
    if (!form) return;
    const source = form.elements.source.value;
    const state = form.elements.state.value;
    const text = form.elements.q.value.trim().toLowerCase();
    let shown = 0, total = 0;
    for (const tr of document.querySelectorAll("#matrix tbody tr")) {
      total++;
      const ok = (!source || tr.dataset.source === source) &&
        (!state || (" " + tr.dataset.states).includes(" " + state + " ")) &&
        (!text || tr.dataset.text.toLowerCase().includes(text));
      tr.hidden = !ok;
      if (ok) shown++;
    }
    const count = document.getElementById("count");
    if (count && total) count.textContent = shown + " of " + total + " applications";
  }

  function watchFilters() {
    const form = document.getElementById("filters");
    if (!form) return;
    // The page may have been rendered filtered: typing filters what it holds,
    // submitting asks the agent again.
    form.addEventListener("input", function () {
      applyFilter();
      const q = new URLSearchParams(new FormData(form));
      for (const [k, v] of [...q]) if (!v) q.delete(k);
      history.replaceState(null, "", q.toString() ? "?" + q : location.pathname);
    });
  }

  watchFilters();
  connect();
})();
