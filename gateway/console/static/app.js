// The operator console: a small hash-routed page over /console/api. No framework, no build step.
// Everything is built with DOM calls and textContent (never innerHTML with data): message
// content is untrusted input.
"use strict";

const API = "/console/api";
let ME = null;

// ---- helpers ---------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const SVG = "http://www.w3.org/2000/svg";
function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, v);
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

function toast(text, error) {
  const box = document.getElementById("toast");
  const div = h("div", { class: error ? "error" : "" }, text);
  box.append(div);
  setTimeout(() => div.remove(), 6000);
}

async function api(path, options) {
  const opts = Object.assign({ headers: {}, credentials: "same-origin" }, options || {});
  if (opts.body !== undefined) {
    opts.method = opts.method || "POST";
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(opts.body);
  }
  const res = await fetch(API + path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401 && !path.startsWith("/login")) { ME = null; showLogin(); throw new Error("log in first"); }
  if (!res.ok) {
    // FastAPI's {"detail"} (console-only hosts) or the service's {"error": {"message"}}
    const detail = data && (data.detail || (data.error && data.error.message));
    const msg = detail ? (typeof detail === "string" ? detail : JSON.stringify(detail)) : res.statusText;
    throw new Error(msg);
  }
  return data;
}

function can(permission) { return ME && ME.permissions.includes(permission); }
function fmtTime(iso) { return iso ? iso.replace("T", " ").replace(/\.\d+/, "").replace("+00:00", "Z") : ""; }
function verdict(v) { return h("span", { class: "verdict " + String(v || "").toLowerCase() }, v || "?"); }
// An accepted 323 of which some prestaties were refused (stored issues, or the gemeente's 325).
function partly(m) { return m.partly_rejected ? h("span", { class: "tag partly", title: "some prestaties were rejected" }, "partly rejected") : null; }
function main() { return document.getElementById("main"); }
function setMain(...nodes) { main().replaceChildren(...nodes.filter((n) => n !== null && n !== undefined)); }
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, "");
  const [path, query] = raw.split("?");
  return { parts: path.split("/").filter(Boolean), params: new URLSearchParams(query || "") };
}

// ---- login -----------------------------------------------------------------------------------

function showLogin() {
  document.getElementById("nav").hidden = true;
  document.getElementById("who").replaceChildren();
  const err = h("p", { class: "muted", id: "login-error" });
  const form = h("form", { id: "login-form", onsubmit: async (ev) => {
      ev.preventDefault();
      const fd = new FormData(form);
      try {
        await api("/login", { body: { username: fd.get("username"), password: fd.get("password") } });
        await start();
      } catch (e) { err.textContent = e.message; }
    } },
    h("label", {}, "User name", h("input", { name: "username", id: "username", autocomplete: "username", required: true })),
    h("label", {}, "Password", h("input", { name: "password", id: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit", id: "login-button" }, "Log in"), err);
  setMain(h("div", { class: "card login" }, h("h1", {}, "Operator console"), form));
}

async function start() {
  try { ME = await api("/me"); } catch (e) { return; }
  if (!ME.user) { ME = null; showLogin(); return; }
  document.getElementById("nav").hidden = false;
  document.getElementById("who").replaceChildren(
    `${ME.user} (${ME.role})`,
    h("button", { class: "secondary", id: "logout", onclick: async () => { await api("/logout", { body: {} }); ME = null; showLogin(); } }, "Log out"));
  if (!location.hash || location.hash === "#") location.hash = "#/log"; else route();
}

// ---- message log -----------------------------------------------------------------------------

const FILTERS = [
  ["since", "From", "datetime-local"], ["until", "Until", "datetime-local"],
  ["standard", "Standard", ["", "ijw", "iwmo"]], ["code", "Message type", "text"],
  ["sender", "Sender", "text"], ["receiver", "Receiver", "text"],
  ["verdict", "Verdict", ["", "accepted", "partly_rejected", "rejected", "flagged", "review", "transport_rejected"]], ["rule", "Rule code", "text"],
  ["contract_rule", "Contract rule", "text"], ["client_key", "Client chain (key)", "text"],
  ["q", "Id / identificatie / toewijzing- or declaratienummer", "text"], ["dead_letter", "Dead letter", ["", "true", "false"]],
];

const CODES = ["301", "302", "305", "306", "307", "308", "315", "316", "317", "318", "319", "320", "323", "325"]
  .flatMap((n) => ["JW" + n, "WMO" + n]);

async function showLog(params) {
  const form = h("form", { class: "filters", id: "filters", onsubmit: (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    for (const [name] of FILTERS) {
      let v = form.elements[name].value.trim();
      if (v && (name === "since" || name === "until")) v = new Date(v).toISOString();
      if (v) p.set(name, v);
    }
    location.hash = "#/log?" + p.toString();
  } });
  for (const [name, label, type] of FILTERS) {
    let input;
    let value = params.get(name) || "";
    if (value && (name === "since" || name === "until")) {
      const d = new Date(value);
      value = isNaN(d) ? "" : new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    }
    if (Array.isArray(type)) {
      input = h("select", { name, id: "f-" + name }, type.map((o) => h("option", { value: o, selected: o === value }, o || "any")));
    } else {
      const list = name === "code" ? "codes" : (name === "sender" || name === "receiver") ? "parties" : null;
      input = h("input", { name, id: "f-" + name, type, value, list });
    }
    form.append(h("label", {}, label, input));
  }
  form.append(h("datalist", { id: "codes" }, CODES.map((c) => h("option", { value: c }))));
  const parties = h("datalist", { id: "parties" });
  form.append(parties);
  api("/facets").then((f) => parties.append(...f.parties.map((p) => h("option", { value: p.party_id }, `${p.party_id} ${p.name} (${p.role})`))))
    .catch(() => {});
  form.append(h("div", {}, h("button", { type: "submit", id: "apply" }, "Filter"), " ",
    h("button", { type: "button", class: "secondary", onclick: () => { location.hash = "#/log"; } }, "Clear")));

  const tbody = h("tbody", { id: "log-rows" });
  const table = h("table", { id: "log" }, h("thead", {}, h("tr", {},
    ["Received", "Type", "Sender", "Receiver", "Identificatie", "Verdict", "Rules", "BSN", "Routing"].map((x) => h("th", {}, x)))), tbody);
  const more = h("button", { class: "secondary", id: "next-page", hidden: true }, "Next page");
  const status = h("span", { class: "muted", id: "log-status" });
  setMain(h("h1", {}, "Message log"), h("div", { class: "card" }, form), table, h("div", { class: "pager" }, more, status));

  let cursor = null, shown = 0;
  async function load() {
    const p = new URLSearchParams(params);
    if (cursor) p.set("cursor", cursor);
    const t0 = performance.now();
    let page;
    try { page = await api("/messages?" + p.toString()); } catch (e) { status.textContent = e.message; return; }
    for (const m of page.items) {
      tbody.append(h("tr", { class: "clickable", dataset: { id: m.id }, onclick: () => { location.hash = "#/message/" + m.id; } },
        h("td", { class: "mono" }, fmtTime(m.received_at)), h("td", {}, m.code || "?"),
        h("td", { class: "mono" }, m.sender || ""), h("td", { class: "mono" }, m.receiver || ""),
        h("td", { class: "mono" }, m.identificatie || ""), h("td", {}, verdict(m.verdict), partly(m), m.dead_letter ? h("span", { class: "tag" }, "dead letter") : null,
          m.routing_state === "delivery_failed" ? h("span", { class: "tag" }, "delivery refused") : null),
        h("td", {}, m.rules.map((r) => h("span", { class: "tag rule" }, r))),
        h("td", { class: "mono masked" }, m.bsn || ""), h("td", {}, m.routing_state || "")));
    }
    shown += page.items.length;
    cursor = page.next_cursor;
    more.hidden = !cursor;
    status.textContent = `${shown} shown${cursor ? "" : " (end)"} · ${Math.round(performance.now() - t0)} ms`;
  }
  more.onclick = load;
  await load();
}

// ---- message detail --------------------------------------------------------------------------

function xmlBlock(text, highlight, id) {
  const hl = new Set(highlight || []);
  const pre = h("pre", { class: "xml mono", id });
  text.replace(/\n$/, "").split("\n").forEach((line, i) => {
    pre.append(h("span", { class: "ln" + (hl.has(i + 1) ? " hl" : ""), id: id + "-L" + (i + 1), dataset: { line: i + 1 } }, line));
  });
  return pre;
}

function reasonField(id) { return h("input", { id, placeholder: "reason (required)", size: 28 }); }

function actionBar(d) {
  const id = d.message.id;
  const box = h("div", { class: "actions" });
  const after = async (promise, text) => {
    try { const r = await promise; toast(text(r)); await showMessage(id, false); } catch (e) { toast(e.message, true); }
  };
  if (can("act")) {
    const rr = reasonField("replay-reason");
    box.append(h("div", { class: "field" }, rr), h("button", { id: "replay", onclick: () =>
      after(api(`/messages/${id}/replay`, { body: { reason: rr.value } }),
        (r) => `Replayed: ${r.new_message_id || "done"}${r.verdict ? " → " + r.verdict : ""}`) }, "Replay through current rules"));
    const dest = h("input", { id: "republish-destination", placeholder: "destination (topic)", size: 22 });
    const pr = reasonField("republish-reason");
    box.append(h("div", { class: "field" }, dest), h("div", { class: "field" }, pr), h("button", { id: "republish", onclick: () =>
      after(api(`/messages/${id}/republish`, { body: { destination: dest.value, reason: pr.value } }), (r) => `Queued as outbox row ${r.outbox_id}`) }, "Re-publish"));
    const dr = reasonField("dead-reason");
    // a SOAP endpoint refused one of its envelopes (Fo03): only that delivery is parked; "out" sends it again
    const refused = !d.message.dead_letter && d.message.routing_state === "delivery_failed";
    const dead = !d.message.dead_letter && !refused;
    box.append(h("div", { class: "field" }, dr), h("button", { id: "dead-letter", class: "secondary", onclick: () =>
      after(api(`/messages/${id}/dead-letter`, { body: { dead, reason: dr.value } }),
        () => dead ? "Moved to dead letters" : refused ? "The refused delivery is queued again" : "Moved out of dead letters") },
      dead ? "Move to dead letters" : refused ? "Send the refused delivery again" : "Move out of dead letters"));
  }
  if (can("reveal_bsn") && !d.revealed) {
    const vr = reasonField("reveal-reason");
    box.append(h("div", { class: "field" }, vr), h("button", { id: "reveal", class: "secondary", onclick: async () => {
      try { const full = await api(`/messages/${id}/reveal`, { body: { reason: vr.value } }); renderMessage(full); toast("BSN shown; this view is in the audit log"); }
      catch (e) { toast(e.message, true); } } }, "Show BSN (audited)"));
  }
  return box.childElementCount ? h("div", { class: "card" }, h("h2", {}, "Actions"), box) : null;
}

function msgTable(rows, current, id) {
  if (!rows.length) return h("p", { class: "muted" }, "none");
  return h("table", { id }, h("thead", {}, h("tr", {}, ["Received", "Type", "Sender", "Receiver", "Verdict", "Rules"].map((x) => h("th", {}, x)))),
    h("tbody", {}, rows.map((m) => h("tr", { class: "clickable" + (m.id === current ? " current" : ""), onclick: () => { location.hash = "#/message/" + m.id; } },
      h("td", { class: "mono" }, fmtTime(m.received_at)), h("td", {}, m.id === current ? h("strong", {}, m.code) : m.code),
      h("td", { class: "mono" }, m.sender || ""), h("td", { class: "mono" }, m.receiver || ""), h("td", {}, verdict(m.verdict), partly(m)),
      h("td", {}, m.rules.map((r) => h("span", { class: "tag rule" }, r)))))));
}

// The StUF-GGk envelope the message came in, and the Du01/Fo01 the gateway answered with.
function envelopeCard(e) {
  if (!e) return null;
  const ver = (a, b) => (a || b ? `${a || ""}/${b || ""}` : "");
  const rows = [["Berichtcode", e.berichtcode], ["Referentienummer", e.referentienummer], ["CrossRefnummer", e.cross_refnummer],
    ["Zender", [e.zender, e.zender_applicatie].filter(Boolean).join(" / ")], ["Ontvanger", e.ontvanger],
    ["Functie", e.functie], ["Functie versie", ver(e.functie_versie, e.functie_subversie)],
    ["Applicatie versie", ver(e.applicatie_versie, e.applicatie_subversie)], ["Tijdstip", e.tijdstip_bericht],
    ["Answered with", e.answer_code ? `${e.answer_code} ${e.answer_referentienummer || ""}` : "no answer"]];
  if (e.fout) rows.push(["Fout", `${e.fout.code} (${e.fout.plek}) ${e.fout.omschrijving}`], ["Details", e.fout.details]);
  return h("div", { class: "card", id: "envelope" }, h("h2", {}, "StUF-GGk envelope"),
    h("dl", { class: "kv" }, ...rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, v ?? "")])));
}

// The envelopes sent for the message and the Du01/Fo01 answers that came back (crossRefnummer).
function answersCard(a) {
  if (!a || (!a.sent.length && !a.du01.length && !a.fo01.length)) return null;
  const sent = a.sent.map((s) => h("li", {}, h("span", { class: "tag" }, s.berichtcode), " ", h("span", { class: "mono" }, s.referentienummer), ` to ${s.ontvanger || ""}`));
  const du01 = a.du01.map((x) => h("li", { class: "du01" }, h("span", { class: "tag" }, "Du01"), " ",
    h("a", { href: "#/message/" + x.message_id }, `${x.code || x.functie} from ${x.zender}`), " ", verdict(x.verdict), " ", h("span", { class: "mono muted" }, fmtTime(x.received_at))));
  const fo01 = a.fo01.map((f) => h("li", { class: "fo01" }, h("span", { class: "tag rule" }, `Fo01 ${f.code}`), ` from ${f.zender}: ${f.omschrijving}`,
    f.details ? h("div", { class: "mono muted" }, f.details) : null, h("div", { class: "mono muted" }, `${fmtTime(f.received_at)} crossRefnummer ${f.cross_refnummer || ""}`)));
  return h("div", { class: "card", id: "answers" }, h("h2", {}, "Envelopes out and answers"),
    h("ul", { class: "issues" }, ...sent, ...du01, ...fo01,
      !a.du01.length && !a.fo01.length ? h("li", { class: "muted" }, "no answer yet") : null));
}

function renderMessage(d) {
  const m = d.message;
  const issues = h("ul", { class: "issues", id: "issues" }, d.issues.length ? d.issues.map((i) => h("li", {},
    h("span", { class: "rule" }, i.rule), " ", i.retourcode ? h("span", { class: "tag" }, "retourcode " + i.retourcode) : null,
    i.line ? h("a", { href: "#", onclick: (ev) => { ev.preventDefault(); const el = document.getElementById("xml-L" + i.line); if (el) el.scrollIntoView({ block: "center" }); } }, ` line ${i.line}`) : null,
    h("div", {}, i.text), i.path ? h("div", { class: "mono muted" }, i.path) : null,
    ...(i.locations || []).slice(1).map((loc) => h("div", { class: "mono muted also" }, "also " + loc)))) : [h("li", { class: "muted" }, "no issues")]);
  const meta = h("dl", { class: "kv" },
    ...[["Id", m.id], ["Received", fmtTime(m.received_at)], ["Type", m.code], ["Standard", m.standard], ["Sender", m.sender], ["Receiver", m.receiver],
      ["Identificatie", m.identificatie], ["Dagtekening", m.dagtekening], ["BSN", m.bsn], ["Transport", m.transport], ["Routing", m.routing_state],
      ["Dead letter", m.dead_letter ? "yes" : "no"], ["Replay of", m.replay_of], ["Retour id", m.retour_identificatie]]
      .flatMap(([k, v]) => [h("dt", {}, k), h("dd", { class: "mono" }, v ?? "")]),
    h("dt", {}, "Verdict"), h("dd", { id: "verdict" }, verdict(m.verdict), partly(m)),
    d.prestaties ? h("dt", {}, "Prestaties") : null,
    d.prestaties ? h("dd", { id: "prestaties" }, `${d.prestaties.total} stored, ${d.prestaties.rejected} rejected`) : null,
    h("dt", {}, "Client"), h("dd", {}, m.client_key
      ? h("a", { href: "#/log?client_key=" + encodeURIComponent(m.client_key), id: "client-log" }, "this client's messages in the log")
      : h("span", { class: "muted" }, "several or none (see the chain below)")));
  const outbox = d.outbox.length ? h("table", { id: "outbox" }, h("thead", {}, h("tr", {}, ["#", "Destination", "Party", "Created", "Published", "Attempts", "Last error"].map((x) => h("th", {}, x)))),
    h("tbody", {}, d.outbox.map((o) => h("tr", {}, h("td", {}, o.id), h("td", { class: "mono" }, o.destination), h("td", {}, o.party || ""), h("td", { class: "mono" }, fmtTime(o.created_at)),
      h("td", { class: "mono" }, o.published_at ? fmtTime(o.published_at) : "waiting"), h("td", {}, o.attempts), h("td", {}, o.last_error || ""))))) : h("p", { class: "muted" }, "not routed");
  const audit = !d.audit.length ? h("p", { class: "muted", id: "message-audit" }, "no actions on this message yet") : h("table", { id: "message-audit" }, h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Why", "Details"].map((x) => h("th", {}, x)))),
    h("tbody", {}, d.audit.map((a) => h("tr", {}, h("td", { class: "mono" }, fmtTime(a.at)), h("td", {}, a.actor), h("td", {}, a.action), h("td", {}, a.reason || ""), h("td", { class: "mono" }, a.details && Object.keys(a.details).length ? JSON.stringify(a.details) : "")))));
  setMain(
    h("h1", {}, `${m.code || "Unidentified message"} `, h("span", { class: "mono muted" }, m.id), " ", verdict(m.verdict), " ", partly(m), d.revealed ? h("span", { class: "tag", id: "revealed" }, "BSN shown in full") : null),
    actionBar(d),
    h("div", { class: "grid2" },
      h("div", {}, h("div", { class: "card" }, h("h2", {}, "Message"), d.xml_error ? h("p", { class: "rule" }, d.xml_error) : null, xmlBlock(d.xml, d.highlight, "xml"))),
      h("div", {},
        h("div", { class: "card" }, h("h2", {}, `Issues (${d.issues.length})`), issues),
        h("div", { class: "card" }, h("h2", {}, "Details"), meta),
        envelopeCard(d.envelope),
        answersCard(d.answers),
        h("div", { class: "card" }, h("h2", {}, "Retour sent"), d.retour ? xmlBlock(d.retour, [], "retour") : h("p", { class: "muted" }, "none")))),
    h("div", { class: "card" }, h("h2", {}, "Routing history"), outbox),
    h("div", { class: "card" }, h("h2", {}, "Chain of this client"), msgTable(d.chain, m.id, "chain")),
    d.replays.length ? h("div", { class: "card" }, h("h2", {}, "Replays"), msgTable(d.replays, m.id, "replays")) : null,
    h("div", { class: "card" }, h("h2", {}, "Audit"), audit));
  const first = d.highlight && d.highlight[0];
  if (first) { const el = document.getElementById("xml-L" + first); if (el) el.scrollIntoView({ block: "center" }); window.scrollTo(0, 0); }
}

async function showMessage(id) {
  try { renderMessage(await api("/messages/" + encodeURIComponent(id))); } catch (e) { setMain(h("p", { class: "rule" }, e.message)); }
}

// ---- dashboard -------------------------------------------------------------------------------

const COLORS = ["#1f5fbf", "#c62828", "#e0a100", "#2e7d32", "#6a1b9a", "#00838f", "#8d6e63", "#5c6bc0", "#ef6c00", "#546e7a"];
const VERDICT_COLORS = { accepted: "#2e7d32", rejected: "#c62828", flagged: "#e0a100", review: "#6a1b9a" };

function hoursBetween(since, until) {
  // Every hour of the window ("YYYY-MM-DDTHH:00", UTC), so quiet hours show as gaps.
  const out = [];
  const t = new Date(since); t.setUTCMinutes(0, 0, 0);
  for (const end = new Date(until); t <= end && out.length < 800; t.setUTCHours(t.getUTCHours() + 1)) out.push(t.toISOString().slice(0, 13) + ":00");
  return out;
}

function stackedBars(rows, keyOf, id, hours) {
  // rows: {hour, <series key>, n}; one bar per hour, stacked by series.
  const series = [...new Set(rows.map(keyOf))].sort();
  const color = (k, i) => VERDICT_COLORS[k] || COLORS[i % COLORS.length];
  const totals = hours.map((hr) => rows.filter((r) => r.hour === hr).reduce((a, r) => a + r.n, 0));
  const max = Math.max(1, ...totals);
  const W = 560, H = 200, pad = 30, step = (W - pad - 10) / Math.max(1, hours.length);
  const bw = Math.max(0.6, step > 4 ? step - 2 : step);
  const svg = s("svg", { viewBox: `0 0 ${W} ${H + 30}`, width: "100%", id, role: "img" });
  svg.append(s("line", { x1: pad, y1: H, x2: W, y2: H, stroke: "#999" }), s("text", { x: 2, y: 12 }, String(max)), s("text", { x: 2, y: H }, "0"));
  hours.forEach((hr, i) => {
    let y = H;
    const x = pad + i * step;
    series.forEach((k, si) => {
      const n = rows.filter((r) => r.hour === hr && keyOf(r) === k).reduce((a, r) => a + r.n, 0);
      if (!n) return;
      const bh = (n / max) * (H - 20);
      y -= bh;
      svg.append(s("rect", { x, y, width: bw, height: bh, fill: color(k, si) }, s("title", {}, `${hr} ${k}: ${n}`)));
    });
    if (hours.length <= 12 || i % Math.ceil(hours.length / 8) === 0) svg.append(s("text", { x, y: H + 14 }, hours.length > 48 ? hr.slice(5, 10) : hr.slice(11, 16)));
  });
  const legend = h("div", { class: "legend" }, series.map((k, i) => { const sp = h("span", {}, k); sp.style.setProperty("--c", color(k, i)); return sp; }));
  return h("div", {}, svg, legend);
}

function hBars(items, label, value, id, fmt) {
  const max = Math.max(1e-9, ...items.map(value));
  const W = 560, row = 22, H = Math.max(1, items.length) * row + 4;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, width: "100%", id, role: "img" });
  items.forEach((it, i) => {
    const w = (value(it) / max) * (W - 200);
    svg.append(s("text", { x: 0, y: i * row + 15 }, label(it)),
      s("rect", { x: 110, y: i * row + 4, width: Math.max(1, w), height: 14, fill: COLORS[i % COLORS.length] }),
      s("text", { x: 116 + w, y: i * row + 15 }, fmt ? fmt(value(it)) : String(value(it))));
  });
  return items.length ? svg : h("p", { class: "muted" }, "no data in this window");
}

function simpleTable(rows, cols, id) {
  if (!rows.length) return h("p", { class: "muted" }, "none");
  return h("table", { id }, h("thead", {}, h("tr", {}, cols.map(([t]) => h("th", {}, t)))),
    h("tbody", {}, rows.map((r) => h("tr", {}, cols.map(([, f]) => h("td", {}, f(r)))))));
}

const euro = (c) => (c === null || c === undefined) ? "–" : "€ " + (c / 100).toLocaleString("nl-NL", { minimumFractionDigits: 2 });

async function showDashboard(params) {
  const hours = params.get("hours") || "24";
  const pick = h("select", { id: "hours", onchange: () => { location.hash = "#/dashboard?hours=" + pick.value; } },
    [["6", "6 hours"], ["24", "24 hours"], ["168", "7 days"], ["720", "30 days"]].map(([v, t]) => h("option", { value: v, selected: v === hours }, t)));
  setMain(h("h1", {}, "Dashboard ", pick), h("p", { class: "muted" }, "Loading…"));
  let d;
  try { d = await api("/dashboard?hours=" + encodeURIComponent(hours)); } catch (e) { toast(e.message, true); return; }
  const hours_ = hoursBetween(d.since, d.until);
  const byType = stackedBars(d.per_hour, (r) => r.code || "unidentified", "chart-type", hours_);
  const byVerdict = stackedBars(d.per_hour, (r) => r.verdict, "chart-verdict", hours_);
  const budget = d.budget.map((b) => {
    const bar = h("div", { class: "bar" }, h("div", { class: b.used > 1 ? "over" : "" }));
    bar.firstChild.style.width = Math.min(100, Math.round((b.used || 0) * 100)) + "%";
    return Object.assign({}, b, { bar });
  });
  setMain(
    h("h1", {}, "Dashboard ", pick, h("span", { class: "muted" }, ` ${fmtTime(d.since)} – ${fmtTime(d.until)}`)),
    h("div", { class: "charts" },
      h("div", { class: "card" }, h("h2", {}, "Messages per hour by type"), byType),
      h("div", { class: "card" }, h("h2", {}, "Messages per hour by verdict"), byVerdict),
      h("div", { class: "card" }, h("h2", {}, "Top rejection codes"), hBars(d.top_rules, (r) => r.rule, (r) => r.n, "chart-rules")),
      h("div", { class: "card" }, h("h2", {}, "Rejection rate per provider"), hBars(d.rejection_rate.slice(0, 15), (r) => r.provider, (r) => r.rate, "chart-rejection", (v) => (v * 100).toFixed(1) + "%")),
      h("div", { class: "card" }, h("h2", {}, "Retour latency (heen → retour)"),
        d.retour_latency_sample ? h("p", { class: "muted", id: "retour-sample" }, `from the newest ${d.retour_latency_sample.toLocaleString("en")} retours of this window (there are more)`) : null,
        simpleTable(d.retour_latency, [["Type", (r) => `${r.code} → ${r.answered_by}`], ["n", (r) => r.n], ["median s", (r) => r.median], ["p90 s", (r) => r.p90], ["max s", (r) => r.max]], "retour-latency")),
      h("div", { class: "card" }, h("h2", {}, "Outbox lag per destination"), hBars(d.outbox_lag, (r) => r.destination.slice(0, 18), (r) => r.lag_seconds, "chart-outbox", (v) => `${v} s`),
        simpleTable(d.outbox_lag, [["Destination", (r) => r.destination], ["Waiting", (r) => r.waiting], ["Oldest (s)", (r) => r.lag_seconds]], "outbox-lag"))),
    h("h2", {}, "Indicators"),
    h("div", { class: "charts" },
      h("div", { class: "card" }, h("h2", {}, "Waiting time allocation → start (days)"), simpleTable(d.waiting_times, [["Provider", (r) => r.provider], ["n", (r) => r.n], ["median", (r) => r.median], ["p90", (r) => r.p90], ["max", (r) => r.max]], "waiting")),
      h("div", { class: "card" }, h("h2", {}, "Duration of care start → stop (days)"), simpleTable(d.care_durations, [["Provider", (r) => r.provider], ["n", (r) => r.n], ["median", (r) => r.median], ["p90", (r) => r.p90], ["max", (r) => r.max]], "durations")),
      h("div", { class: "card" }, h("h2", {}, "Declared against budget ceiling (this year)"), simpleTable(budget, [["Provider", (r) => r.provider], ["Declared", (r) => euro(r.declared_cents)], ["Ceiling", (r) => euro(r.ceiling_cents)], ["Used", (r) => r.used === null ? "no ceiling" : (r.used * 100).toFixed(1) + "%"], ["", (r) => r.bar]], "budget")),
      h("div", { class: "card" }, h("h2", {}, "Providers with allocations but no declarations"), simpleTable(d.silent_providers, [["Provider", (r) => r.provider], ["Law", (r) => r.law], ["Allocations", (r) => r.allocations], ["Since", (r) => r.since || ""]], "silent"))));
}

// ---- audit -----------------------------------------------------------------------------------

async function showAudit(params) {
  const target = params.get("target") || "";
  const d = await api("/audit?limit=200" + (target ? "&target=" + encodeURIComponent(target) : ""));
  setMain(h("h1", {}, "Audit log"), simpleTable(d.items, [["When", (a) => fmtTime(a.at)], ["Who", (a) => a.actor], ["Action", (a) => a.action],
    ["Message", (a) => a.target ? h("a", { href: "#/message/" + a.target, class: "mono" }, a.target) : ""], ["Why", (a) => a.reason || ""],
    ["Details", (a) => a.details && Object.keys(a.details).length ? JSON.stringify(a.details) : ""]], "audit"));
}

// ---- deadlines -------------------------------------------------------------------------------

async function showDeadlines(params) {
  const q = new URLSearchParams();
  for (const k of ["region", "party", "obligation"]) if (params.get(k)) q.set(k, params.get(k));
  const states = params.getAll("state").length ? params.getAll("state") : ["overdue", "due_soon"];
  states.forEach((st) => q.append("state", st));
  const d = await api("/deadlines?" + q.toString());
  const region = h("select", { id: "d-region" }, h("option", { value: "" }, "all regions"),
    d.facets.regions.map((r) => h("option", { value: r, selected: r === params.get("region") }, r)));
  const party = h("input", { id: "d-party", placeholder: "party (CBS or AGB)", size: 16, value: params.get("party") || "" });
  const obligation = h("select", { id: "d-obligation" }, h("option", { value: "" }, "all obligations"),
    d.facets.obligations.map((o) => h("option", { value: o.id, selected: o.id === params.get("obligation") }, `${o.op} ${o.id}`)));
  const state = h("select", { id: "d-state", multiple: true, size: 3 },
    d.facets.states.map((st) => h("option", { value: st, selected: states.includes(st) }, st)));
  const apply = h("button", { id: "d-apply", onclick: () => {
    const p = new URLSearchParams();
    if (region.value) p.set("region", region.value);
    if (party.value.trim()) p.set("party", party.value.trim());
    if (obligation.value) p.set("obligation", obligation.value);
    for (const o of state.selectedOptions) p.append("state", o.value);
    location.hash = "#/deadlines?" + p.toString();
  } }, "Apply");
  setMain(h("h1", {}, "Deadlines ", h("span", { class: "muted" }, "on " + d.today)),
    h("div", { class: "filters" }, region, party, obligation, state, apply),
    simpleTable(d.items, [["Due", (r) => r.due || ""], ["State", (r) => h("span", { class: "verdict " + r.state }, r.state)],
      ["Obligation", (r) => h("span", { title: r.title || "" }, `${r.op} ${r.obligation}`)], ["Must act", (r) => r.party],
      ["Toward", (r) => r.counterparty], ["Region", (r) => r.region || ""], ["Opened by", (r) => h("a", { href: "#/message/" + r.message_id, class: "mono" }, `${r.kind} ${r.message_id}`)],
      ["Opened", (r) => r.opened], ["Closed", (r) => r.closed_by ? h("a", { href: "#/message/" + r.closed_by, class: "mono" }, r.closed) : ""]], "deadline-rows"));
}

// ---- chain errors (Fo01s received) ---------------------------------------------------------------

async function showChainErrors(params) {
  const unlinked = params.get("unlinked") === "true";
  const d = await api("/ggk/fo01" + (unlinked ? "?unlinked=true" : ""));
  const toggle = h("label", {}, h("input", { type: "checkbox", id: "fo01-unlinked", checked: unlinked,
    onchange: (ev) => { location.hash = "#/chain-errors" + (ev.target.checked ? "?unlinked=true" : ""); } }), " only those naming no envelope of ours");
  setMain(h("h1", {}, "Chain errors ", h("span", { class: "muted" }, "Fo01s received")), h("div", { class: "filters" }, toggle),
    simpleTable(d.items, [["Received", (f) => fmtTime(f.received_at)], ["Code", (f) => h("span", { class: "tag rule" }, f.code)], ["From", (f) => f.zender],
      ["To", (f) => f.ontvanger || ""], ["Omschrijving", (f) => f.omschrijving], ["Details", (f) => f.details || ""],
      ["Message", (f) => f.message_id ? h("a", { href: "#/message/" + f.message_id, class: "mono" }, f.message_id) : h("span", { class: "muted" }, "unlinked " + (f.cross_refnummer || ""))]], "fo01-rows"));
}

// ---- routing ---------------------------------------------------------------------------------

async function route() {
  if (!ME) return;
  document.getElementById("toast").replaceChildren();
  const { parts, params } = parseHash();
  const page = parts[0] || "log";
  document.querySelectorAll("#nav a").forEach((a) => a.classList.toggle("active", a.dataset.nav === page || (page === "message" && a.dataset.nav === "log")));
  try {
    if (page === "message" && parts[1]) await showMessage(decodeURIComponent(parts[1]));
    else if (page === "dashboard") await showDashboard(params);
    else if (page === "audit") await showAudit(params);
    else if (page === "deadlines") await showDeadlines(params);
    else if (page === "chain-errors") await showChainErrors(params);
    else await showLog(params);
  } catch (e) { if (ME) toast(e.message, true); }
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", start);
