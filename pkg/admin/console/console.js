// The pvs operations console: a page on the management API. Everything it
// shows comes from the API with the token the operator gives, which is
// kept in this tab's sessionStorage only.
"use strict";

const TOKEN_KEY = "pvs-admin-token";
const REFRESH_MS = 2000;
let timer = null;
let shownItem = "";

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(c == null ? "" : String(c)));
  return e;
}

class Unauthorized extends Error {}

// api calls the management API (relative to the page, so that the console
// works under whatever prefix the proxy gives it).
async function api(path, body) {
  const opts = { headers: { Authorization: "Bearer " + sessionStorage.getItem(TOKEN_KEY) } };
  if (body !== undefined) {
    opts.method = "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(body);
  }
  const res = await fetch("api/" + path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { /* not JSON: reported below */ }
  if (res.status === 401) throw new Unauthorized((data && data.error) || "unauthorized");
  if (!res.ok) throw new Error((data && data.error) || ("HTTP " + res.status));
  return data;
}

function showLogin(message) {
  clearInterval(timer);
  timer = null;
  $("#app").hidden = true;
  $("#logout").hidden = true;
  $("#login").hidden = false;
  $("#login-error").textContent = message || "";
  $("#token").focus();
}

function showApp() {
  $("#login").hidden = true;
  $("#app").hidden = false;
  $("#logout").hidden = false;
  refresh();
  if (!timer) timer = setInterval(refresh, REFRESH_MS);
}

function problem(err) {
  if (err instanceof Unauthorized) {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("The token was refused: " + err.message);
    return;
  }
  const p = $("#problem");
  p.hidden = !err;
  p.textContent = err ? String(err.message || err) : "";
}

async function refresh() {
  try {
    const [stages, workers] = await Promise.all([api("stages"), api("workers")]);
    renderStages(stages.stages);
    await renderFailures(stages.stages);
    renderWorkers(workers.workers);
    if (shownItem) await renderItem(shownItem);
    problem(null);
    $("#refreshed").textContent = "updated " + new Date().toLocaleTimeString();
  } catch (err) {
    problem(err);
  }
}

function renderStages(stages) {
  const body = $("#stages tbody");
  body.replaceChildren(...stages.map((s) => {
    const sum = (k) => s.queues.reduce((n, q) => n + q[k], 0);
    return el("tr", { "data-stage": s.stage },
      el("td", {}, s.stage),
      el("td", { class: "num", "data-count": "queued" }, sum("queued")),
      el("td", { class: "num", "data-count": "delayed" }, sum("delayed")),
      el("td", { class: "num", "data-count": "running" }, s.in_progress),
      el("td", { class: "num", "data-count": "success" }, s.success),
      el("td", { class: "num" + (s.failure > 0 ? " bad" : ""), "data-count": "failure" }, s.failure));
  }));
}

async function renderFailures(stages) {
  const failing = stages.filter((s) => s.failure > 0);
  const pages = await Promise.all(failing.map((s) =>
    api("items?stage=" + encodeURIComponent(s.stage) + "&set=failure&limit=100")));
  const rows = [];
  for (const page of pages) {
    if (page.total > page.items.length) {
      rows.push(el("tr", {}, el("td", { colSpan: 6, class: "muted" },
        page.stage + ": " + page.items.length + " of " + page.total + " failures shown")));
    }
    for (const h of page.items) {
      const show = el("button", { type: "button", class: "linkish" }, h.item);
      show.addEventListener("click", () => { $("#item").value = h.item; selectItem(h.item); });
      // A retried item stays in the failure set until its next outcome.
      let action = el("span", { class: "status status-" + h.status }, h.status);
      if (h.status === "failure") {
        action = el("button", { type: "button", class: "retry", "data-item": h.item, "data-stage": page.stage }, "Retry");
        action.addEventListener("click", () => retryItem(page.stage, h.item, action));
      }
      rows.push(el("tr", { "data-item": h.item, "data-stage": page.stage },
        el("td", { class: "item" }, show),
        el("td", {}, page.stage),
        el("td", { class: "num" }, h.attempts),
        el("td", {}, h.finished_at || ""),
        el("td", { class: "reason" }, h.status === "failure" ? h.error : "retried: " + h.status),
        el("td", {}, action)));
    }
  }
  $("#failures tbody").replaceChildren(...rows);
  $("#failures").hidden = rows.length === 0;
  $("#no-failures").hidden = rows.length > 0;
}

async function retryItem(stage, item, button) {
  button.disabled = true;
  try {
    await api("retry", { stage: stage, items: [item] });
    $("#item").value = item;
    shownItem = item;
    await refresh();
  } catch (err) {
    problem(err);
    button.disabled = false;
  }
}

function renderWorkers(workers) {
  const rows = workers.map((w) => {
    const beat = w.registered ? (w.silent_seconds.toFixed(1) + " s ago") : "gone: its items are being given back";
    const state = w.degraded ? ("degraded for " + Math.round(w.degraded_seconds) + " s: " + w.degraded) : "working";
    const holds = w.holds.map((h) => h.item + " (attempt " + h.attempts + (h.leased ? "" : ", being given back") + ")").join(", ");
    return el("tr", { "data-worker": w.worker },
      el("td", {}, w.stage), el("td", { class: "item" }, w.worker), el("td", {}, beat),
      el("td", { class: w.degraded ? "bad" : "" }, state), el("td", { class: "item" }, holds || "nothing"));
  });
  $("#workers tbody").replaceChildren(...rows);
  $("#workers").hidden = rows.length === 0;
  $("#no-workers").hidden = rows.length > 0;
}

async function selectItem(item) {
  shownItem = item;
  try {
    await renderItem(item);
    problem(null);
  } catch (err) {
    problem(err);
  }
}

async function renderItem(item) {
  const box = $("#timeline");
  let data;
  try {
    data = await api("item?item=" + encodeURIComponent(item));
  } catch (err) {
    if (err instanceof Unauthorized) throw err;
    box.replaceChildren(el("p", { class: "error" }, err.message));
    return;
  }
  if (item !== shownItem) return; // another item was asked for meanwhile
  box.replaceChildren(...data.stages.map((h) => {
    const events = [];
    if (h.enqueued_at) events.push([h.enqueued_at, "queued on " + h.queue]);
    if (h.started_at) events.push([h.started_at, "attempt " + h.attempts + " started" + (h.worker ? " by " + h.worker : "")]);
    if (h.status === "retrying" && h.retry_at) events.push([h.retry_at, "retry due" + (h.error ? " after: " + h.error : "")]);
    if (h.finished_at) events.push([h.finished_at, h.status === "success" ? "succeeded" + (h.result ? ": " + h.result : "") : "failed: " + (h.error || "")]);
    events.sort((a, b) => a[0].localeCompare(b[0]));
    const d = h.duration_seconds || 0;
    const took = d >= 0.01 ? " in " + d.toFixed(2) + " s" : (h.finished_at ? " in under 0.01 s" : "");
    const log = (h.log || []).map((l) => l.time + "  " + l.level.padEnd(5) + " [attempt " + l.attempt + "] " + l.msg).join("\n");
    return el("div", { class: "stage-history", "data-stage": h.stage },
      el("h3", {}, h.stage + ": ", el("span", { class: "status status-" + h.status }, h.status),
        " after " + h.attempts + " attempt" + (h.attempts === 1 ? "" : "s") + took + (h.held ? " (held by " + h.worker + ")" : "")),
      el("ol", { class: "events" }, ...events.map(([t, what]) => el("li", {}, el("span", { class: "muted" }, t + " "), what))),
      log ? el("pre", { class: "log" }, log) : el("p", { class: "muted" }, "no log lines kept"));
  }));
}

document.addEventListener("DOMContentLoaded", () => {
  $("#login").addEventListener("submit", (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, $("#token").value.trim());
    $("#token").value = "";
    showApp();
  });
  $("#logout").addEventListener("click", () => {
    sessionStorage.removeItem(TOKEN_KEY);
    showLogin("");
  });
  $("#lookup").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const item = $("#item").value.trim();
    if (item) selectItem(item);
  });
  if (sessionStorage.getItem(TOKEN_KEY)) showApp();
  else showLogin("");
});
