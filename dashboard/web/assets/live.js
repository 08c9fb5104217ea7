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

  // onEvent refreshes what an event of the agent's stream changed: the
  // application's row, or its page (a source's event: the pages of its
  // applications, which show its status).
  function onEvent(msg) {
    let ev;
    try { ev = JSON.parse(msg.data); } catch (e) { return; }
    const app = ev.app || "";
    const main = document.getElementById("appmain");
    if (main && (app === main.dataset.app || (!app && ev.source && main.dataset.app.startsWith(ev.source + "/")))) {
      later("main", function () { refreshApp(main); });
    }
    if (!app) return;
    const row = function () { return document.querySelector('tr[data-app="' + CSS.escape(app) + '"]'); };
    if (row()) later(app, function () { const tr = row(); if (tr) refreshRow(tr); });
  }

  // Action buttons (shown to write tokens): confirm, then POST the
  // action with the header that proves it comes from this page (the
  // agent refuses cookie-signed actions without it), and show the
  // agent's answer.
  document.addEventListener("click", async function (e) {
    const btn = e.target.closest && e.target.closest("button[data-action]");
    if (!btn) return;
    const form = btn.closest("form.actions");
    const out = document.getElementById("action-result");
    const reason = form.querySelector('input[name="reason"]');
    const body = {};
    if (reason && reason.value.trim()) body.reason = reason.value.trim();
    if (btn.dataset.to) body.to = btn.dataset.to;
    if (reason && reason.required && !body.reason) { out.textContent = "Give a reason first."; reason.focus(); return; }
    if (!window.confirm(btn.dataset.confirm || ("Run " + btn.dataset.action + "?"))) return;
    btn.disabled = true;
    try {
      const res = await fetch(form.dataset.path + "/" + btn.dataset.action, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-Jibe-Action": "1" },
        body: JSON.stringify(body),
      });
      const text = await res.text();
      let msg = text;
      if (res.ok) { try { msg = JSON.parse(text).message; } catch (err) { /* keep the text */ } }
      out.textContent = (res.ok ? "" : res.status + ": ") + msg;
      out.dataset.ok = String(res.ok);
    } catch (err) {
      out.textContent = "the agent did not answer: " + err;
    } finally {
      btn.disabled = false;
    }
  });

  function connect() {
    let url = body.dataset.events;
    if (!url || !window.EventSource) { setLive("off", "not live"); return; }
    const main = document.getElementById("appmain");
    if (main) url += (url.includes("?") ? "&" : "?") + "app=" + encodeURIComponent(main.dataset.app);
    const es = new EventSource(url, { withCredentials: true });
    // Events are not replayed: after a dropped connection, read again
    // what may have changed meanwhile.
    let dropped = false;
    es.onopen = function () {
      setLive("on", "live");
      if (!dropped) return;
      dropped = false;
      if (main) later("main", function () { refreshApp(main); });
      for (const tr of document.querySelectorAll("#matrix tbody tr")) later(tr.dataset.app, function () { refreshRow(tr); });
    };
    es.onerror = function () { dropped = true; setLive("error", "reconnecting…"); };
    es.onmessage = onEvent;
    // The agent names each event's type (rollout, refused, plan, source).
    for (const kind of ["rollout", "refused", "plan", "source"]) es.addEventListener(kind, onEvent);
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

  // The login form sends the token in a header, so that it never shows in
  // an address; without script it goes as ?token= once.
  function watchLogin() {
    const form = document.getElementById("login");
    if (!form) return;
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      const token = form.elements.token.value;
      fetch("/login", { headers: { "Authorization": "Bearer " + token }, credentials: "same-origin" }).then(function (res) {
        if (res.ok) { location.assign(form.dataset.next || "/"); return; }
        let p = document.getElementById("login-problem");
        if (!p) { p = document.createElement("p"); p.id = "login-problem"; p.className = "alert"; form.before(p); }
        p.textContent = "That is not a token of server.tokens with the read scope.";
      });
    });
  }

  watchFilters();
  watchLogin();
  if (!document.getElementById("login")) connect();
})();
