// Agent dashboard: live queue over server-sent events, context card, accept, wrap-up.
// Every value from the server is put into the page with textContent, never as HTML.
"use strict";

(() => {
  const body = document.body;
  const csrf = body.dataset.csrf;
  const isSupervisor = body.dataset.role === "supervisor";
  const myLanguages = (body.dataset.languages || "").split(",");
  const $ = (id) => document.getElementById(id);
  let entries = [];
  let clockOffsetMs = 0;

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  function notice(message, kind) {
    const box = $("notice");
    box.textContent = message;
    box.className = kind || "";
  }

  function toLogin() {
    window.location.assign("/dashboard/login");
  }

  async function post(url, data) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(data || {}),
    });
    if (response.status === 401) toLogin();
    let payload = {};
    try { payload = await response.json(); } catch (_err) { payload = {}; }
    return { status: response.status, body: payload };
  }

  function waitText(since) {
    const seconds = Math.max(0, Math.floor((Date.now() + clockOffsetMs - since) / 1000));
    const m = Math.floor(seconds / 60);
    const s = String(seconds % 60).padStart(2, "0");
    return `${m}:${s}`;
  }

  function customerText(customer) {
    const parts = [customer.label];
    if (customer.phone_masked) parts.push(customer.phone_masked);
    return parts.join(" · ");
  }

  function renderQueue() {
    const rows = entries.map((entry, index) => {
      const row = el("tr", null, `priority-${entry.priority}`);
      row.id = `entry-${entry.id}`;
      row.dataset.entryId = entry.id;
      row.append(el("td", index + 1), el("td", customerText(entry.customer)),
                 el("td", entry.reason), el("td", entry.priority, "priority"),
                 el("td", entry.language));
      const wait = el("td", waitText(Date.parse(entry.enqueued_at)), "wait");
      wait.dataset.since = String(Date.parse(entry.enqueued_at));
      row.append(wait);
      const cell = el("td");
      const button = el("button", "Accept", "accept");
      button.type = "button";
      button.dataset.entryId = entry.id;
      if (!myLanguages.includes(entry.language)) {
        button.disabled = true;
        button.title = `You do not take ${entry.language} calls`;
      }
      button.addEventListener("click", (event) => {
        event.stopPropagation();
        accept(entry.id);
      });
      cell.append(button);
      row.append(cell);
      row.addEventListener("click", () => showCard(entry.id, false));
      return row;
    });
    $("queue-body").replaceChildren(...rows);
    $("queue-count").textContent = String(entries.length);
    $("queue-empty").hidden = entries.length > 0;
  }

  function tick() {
    for (const cell of document.querySelectorAll("#queue-body td.wait")) {
      cell.textContent = waitText(Number(cell.dataset.since));
    }
  }

  function addItem(list, label, value) {
    list.append(el("dt", label), el("dd", value === null || value === undefined ||
                                           value === "" ? "—" : value));
  }

  async function showCard(entryId, forWrapup) {
    const response = await fetch(`/dashboard/api/entries/${entryId}`,
                                 { credentials: "same-origin" });
    if (response.status === 401) { toLogin(); return; }
    if (!response.ok) { notice("Could not load the context card.", "error"); return; }
    const card = await response.json();
    const list = $("card");
    list.replaceChildren();
    const c = card.customer;
    addItem(list, "Customer", customerText(c));
    addItem(list, "Customer ID", c.customer_id);
    addItem(list, "City", c.city);
    addItem(list, "Card", c.card_last4 ? `****${c.card_last4}` : null);
    addItem(list, "Reason", card.reason);
    addItem(list, "Priority", card.priority);
    addItem(list, "Language", card.language);
    const verified = card.identity_verified;
    addItem(list, "Identity", verified === true ? "verified" : verified === false ? "NOT verified"
      : "not checked");
    addItem(list, "Confirmed", card.confirmed_fields.join(", "));
    addItem(list, "Corrections", (card.corrections || []).join(", ") || "none");
    addItem(list, "FAQ topics", card.faq_topics.join(", "));
    addItem(list, "Rating", card.rating);
    if (card.wrapup) addItem(list, "Wrap-up", `${card.wrapup.disposition}: ${card.wrapup.notes}`);
    const turns = card.transcript.map((turn) => {
      const item = el("li", null, `turn ${turn.role}`);
      item.append(el("span", turn.role, "role"), el("span", turn.text, "text"));
      return item;
    });
    $("transcript").replaceChildren(...turns);
    $("card-panel").hidden = false;
    if (forWrapup) {
      $("wrapup-entry").value = String(entryId);
      $("wrapup-status").textContent = "";
      $("wrapup-form").hidden = false;
    } else if ($("wrapup-entry").value !== String(entryId)) {
      $("wrapup-form").hidden = true;
    }
  }

  async function accept(entryId) {
    notice("Accepting…");
    const result = await post(`/dashboard/api/entries/${entryId}/accept`);
    if (result.status === 200) {
      notice("Call accepted: the caller is being transferred to you.", "ok");
      await showCard(entryId, true);
    } else if (result.status === 409) {
      notice("This call was already taken by another agent.", "error");
    } else {
      notice(result.body.message || `Accept failed (${result.status}).`, "error");
    }
  }

  async function saveWrapup(event) {
    event.preventDefault();
    const result = await post("/dashboard/api/wrapup", {
      entry_id: Number($("wrapup-entry").value),
      disposition: $("disposition").value,
      notes: $("notes").value,
    });
    if (result.status === 200) {
      $("wrapup-status").textContent = "Wrap-up saved.";
      $("notes").value = "";
    } else {
      $("wrapup-status").textContent = result.body.message || "Could not save the wrap-up.";
    }
  }

  async function changePresence() {
    const result = await post("/dashboard/api/presence", { presence: $("presence").value });
    if (result.status !== 200) notice(result.body.message || "Presence not changed.", "error");
  }

  function renderOverview(data) {
    $("supervisor-panel").hidden = false;
    const stats = $("stats");
    stats.replaceChildren();
    const s = data.stats;
    addItem(stats, "Queue length", s.queue_length);
    addItem(stats, "Longest wait (s)", s.longest_wait_s);
    addItem(stats, "Handled today", s.handled_today);
    addItem(stats, "Abandoned today", s.abandoned_today);
    addItem(stats, "Timed out today", s.timed_out_today);
    addItem(stats, "Mean wait (s)", s.mean_wait_s);
    $("agents-body").replaceChildren(...data.agents.map((a) => {
      const row = el("tr", null, `presence-${a.presence}`);
      row.append(el("td", a.display_name), el("td", a.role), el("td", a.languages.join(",")),
                 el("td", a.presence));
      return row;
    }));
    $("followups-body").replaceChildren(...data.followups.map((f) => {
      const row = el("tr");
      row.append(el("td", f.kind), el("td", f.call_sid), el("td", f.detail),
                 el("td", f.owner || "—"), el("td", new Date(f.due_at).toLocaleString()));
      return row;
    }));
  }

  function connect() {
    const source = new EventSource("/dashboard/events");
    source.addEventListener("open", () => {
      $("connection").textContent = "live";
      $("connection").className = "conn live";
    });
    source.addEventListener("queue", (event) => {
      const data = JSON.parse(event.data);
      clockOffsetMs = Date.parse(data.server_time) - Date.now();
      entries = data.entries;
      renderQueue();
    });
    source.addEventListener("overview", (event) => {
      if (isSupervisor) renderOverview(JSON.parse(event.data));
    });
    source.addEventListener("logout", () => { source.close(); toLogin(); });
    source.addEventListener("error", async () => {
      $("connection").textContent = "reconnecting…";
      $("connection").className = "conn down";
      if (source.readyState === EventSource.CLOSED) {
        const probe = await fetch("/dashboard/api/queue", { credentials: "same-origin" });
        if (probe.status === 401) { toLogin(); return; }
        setTimeout(connect, 3000);
      }
    });
  }

  $("presence").addEventListener("change", changePresence);
  $("wrapup-form").addEventListener("submit", saveWrapup);
  setInterval(tick, 1000);
  connect();
})();
