// The supervisor view: per brand the waiting chats with their waits, agents' state and
// load, chats in progress, CSAT and SLA figures of the last day; any chat can be watched
// live, read-only (a "watch" on the agent socket: nobody in the chat is told), with a
// whisper (a private note) to the agent holding
// it; take over stays.
import { attachmentList } from "../common/attachments.js";
import { el } from "../common/dom.js";
import { api } from "./api.js";
import { formatWait } from "./display.js";
import "./health.js";
import { agentSocket } from "./socket.js";

const config = JSON.parse(document.getElementById("supervisor-config").textContent);
const root = document.getElementById("brands");
const errorBox = document.getElementById("supervisor-error");
const updated = document.getElementById("updated");
// A select the supervisor is using must not be rebuilt under their pointer, nor a button
// while it is pressed: a press that began on a node the refresh replaced ends on a new
// one, and the browser fires no click. The next refresh (4 s at most) catches up.
let busy = false;
let pressing = false;
root.addEventListener("pointerdown", () => (pressing = true));
for (const type of ["pointerup", "pointercancel"]) window.addEventListener(type, () => (pressing = false));

async function refresh() {
  if (busy || pressing) return;
  try {
    const data = await api("supervisor/overview");
    render(data.brands);
    updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
    errorBox.hidden = true;
  } catch (error) {
    showError(error.message);
  }
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = false;
}

function render(brands) {
  root.replaceChildren(...brands.map(renderBrand));
}

// Load as a bar with the figures beside it: at a glance who is full and who has room.
function loadBar(active, capacity) {
  const share = capacity ? Math.min(1, active / capacity) : 0;
  const level = share >= 1 ? "full" : share >= 0.67 ? "high" : "ok";
  return el("span", { class: "load" },
    el("span", { class: "load__bar", role: "meter", "aria-valuemin": "0", "aria-valuemax": String(capacity), "aria-valuenow": String(active), "aria-label": `Load ${active} of ${capacity}` },
      el("span", { class: `load__fill load__fill--${level}`, style: `width: ${Math.round(share * 100)}%` })),
    el("span", { class: "load__text", text: `${active} / ${capacity}` }));
}

// Met share over the targets that ran out (kept or broken), as chat.reports counts them.
function slaText(sla) {
  if (!sla.ran_out) return "No targets ran out";
  return `${sla.met_percent}% met (${sla.breached} of ${sla.ran_out} breached)`;
}

function renderBrand(b) {
  const agents = el("table", { class: "table" },
    el("caption", { text: `Agents on ${b.brand_name}` }),
    el("thead", {}, el("tr", {}, ["Agent", "Role", "State", "Load"].map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, b.agents.map((a) => el("tr", { dataset: { agent: String(a.id) } },
      el("td", { text: a.name }), el("td", { text: a.role }),
      el("td", {}, el("span", { class: `presence-dot presence-dot--${a.presence}` }), a.presence),
      el("td", {}, loadBar(a.active_chats, a.capacity)),
    ))),
  );
  const waiting = b.waiting.length
    ? el("table", { class: "table waiting" },
      el("caption", { text: `Waiting on ${b.brand_name}` }),
      el("thead", {}, el("tr", {}, ["Customer", "Category", "Summary", "State", "Waiting for", "SLA"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, b.waiting.map((w) => el("tr", { dataset: { conversation: String(w.conversation_id) } },
        el("td", { text: w.customer_name }), el("td", { text: w.category }), el("td", { text: w.summary }),
        el("td", { text: w.state === "offered" ? "Being offered" : "Waiting" }),
        el("td", { class: "wait", dataset: { waited: String(w.waited_seconds) }, text: formatWait(w.waited_seconds) }),
        el("td", { class: `sla sla--${w.sla || "none"}`, text: { breached: "Breached", at_risk: "At risk", ok: "On time" }[w.sla] || "–" }),
      ))),
    )
    : el("p", { class: "muted", text: "Nobody is waiting." });
  const chats = b.chats.length
    ? el("table", { class: "table" },
      el("caption", { text: `Chats in progress on ${b.brand_name}` }),
      el("thead", {}, el("tr", {}, ["Customer", "Category", "Summary", "Agent", "For", "Actions"].map((h) => el("th", { scope: "col", text: h })))),
      el("tbody", {}, b.chats.map((c) => renderChat(b, c))),
    )
    : el("p", { class: "muted", text: "No chats in progress." });
  return el("section", { class: "card brand-overview", "aria-labelledby": `brand-${b.brand}`, dataset: { brand: b.brand } },
    el("h2", { id: `brand-${b.brand}`, text: b.brand_name }),
    el("dl", { class: "stats" },
      el("dt", { text: "Waiting" }), el("dd", { class: "queue-length", text: String(b.queue_length) }),
      el("dt", { text: "Oldest wait" }), el("dd", { class: "oldest-wait", text: b.queue_length ? formatWait(b.oldest_wait_seconds) : "—" }),
      el("dt", { text: `CSAT, last ${b.csat.window_hours} h` }),
      el("dd", { class: "csat", text: b.csat.answered ? `${b.csat.satisfied_percent}% satisfied (avg ${b.csat.average} of 5, ${b.csat.answered} answers)` : "No answers yet" }),
      el("dt", { text: `SLA, last ${b.sla.window_hours} h` }),
      el("dd", { class: "sla", text: slaText(b.sla) }),
      el("dt", { text: "SLA at risk now" }),
      el("dd", { class: `sla-at-risk${b.sla.at_risk ? " sla-at-risk--some" : ""}`, text: String(b.sla.at_risk) }),
    ),
    waiting,
    agents,
    chats,
  );
}

function renderChat(b, c) {
  const others = b.agents.filter((a) => a.id !== c.agent_id);
  const selectId = `reassign-${b.brand}-${c.conversation_id}`;
  const select = el("select", { id: selectId }, others.map((a) => el("option", { value: String(a.id), text: `${a.name} (${a.presence}, ${a.active_chats}/${a.capacity})` })));
  select.addEventListener("focus", () => (busy = true));
  select.addEventListener("blur", () => (busy = false));
  const label = `${c.customer_name || "Customer"} (${b.brand_name})`;
  const takeOver = c.agent_id === config.agent.id
    ? el("a", { href: "/agent/", text: "Open in workspace" })
    : el("button", { type: "button", text: "Take over", "aria-label": `Take over chat with ${label}`, onclick: () => reassign(b.brand, c.conversation_id, null) });
  return el("tr", { dataset: { conversation: String(c.conversation_id) } },
    el("td", { text: c.customer_name }), el("td", { text: c.category }), el("td", { text: c.summary }),
    el("td", { class: "chat-agent", text: c.agent_name }), el("td", { text: formatWait(c.since_seconds) }),
    el("td", { class: "actions" },
      el("button", { type: "button", text: "Watch", "aria-label": `Watch chat with ${label}`, onclick: () => watch(b, c) }),
      takeOver,
      others.length ? [
        el("label", { for: selectId, class: "visually-hidden", text: `Reassign chat with ${label} to` }),
        select,
        el("button", { type: "button", text: "Reassign to…", "aria-label": `Reassign chat with ${label}`, onclick: () => reassign(b.brand, c.conversation_id, Number(select.value)) }),
      ] : null,
    ),
  );
}

async function reassign(brand, conversationId, toAgentId) {
  busy = false;
  try {
    await api(`brands/${brand}/conversations/${conversationId}/reassign`, { method: "POST", body: toAgentId ? { to_agent_id: toAgentId } : {} });
    if (!toAgentId) {
      // The chat is the supervisor's now: continue it in the workspace.
      location.href = "/agent/";
      return;
    }
  } catch (error) {
    showError(error.message);
  }
  refresh();
}

// --- Watching one chat --------------------------------------------------------------------
const watchBox = document.getElementById("watch");
const watchTitle = document.getElementById("watch-title");
const watchMessages = document.getElementById("watch-messages");
const whisperForm = document.getElementById("whisper-form");
const whisperBody = document.getElementById("whisper-body");
const whisperLabel = document.getElementById("whisper-label");
const whisperError = document.getElementById("whisper-error");
let watched = null; // {brand, id, customer, agentName, lastSeq, seqs}

function watch(b, c) {
  if (watched) socket.send({ type: "unwatch", brand: watched.brand, conversation_id: watched.id });
  watched = { brand: b.brand, id: c.conversation_id, customer: c.customer_name, agentName: c.agent_name, lastSeq: 0, seqs: new Set() };
  watchTitle.textContent = `Watching ${c.customer_name || "Customer"} (${b.brand_name}) with ${c.agent_name || "no agent"}`;
  whisperLabel.textContent = `Whisper to ${c.agent_name || "the agent"}`;
  watchMessages.replaceChildren();
  whisperError.hidden = true;
  watchBox.hidden = false;
  socket.send({ type: "watch", brand: watched.brand, conversation_id: watched.id, after_seq: 0 });
  watchBox.scrollIntoView({ block: "start" });
  whisperBody.focus();
}

function watchedFrame(frame) {
  return watched && frame.brand === watched.brand && frame.conversation_id === watched.id;
}

function showWatchedMessage(m) {
  if (m.seq == null || watched.seqs.has(m.seq)) return;
  watched.seqs.add(m.seq);
  watched.lastSeq = Math.max(watched.lastSeq, m.seq);
  const kind = m.internal ? "note" : m.sender;
  const item = el("li", { class: `message message--${kind}`, dataset: { seq: String(m.seq) } },
    m.internal ? el("span", { class: "message__label", text: "Private note" }) : null,
    m.sender !== "system" ? el("span", { class: "message__author", text: m.author || (m.sender === "customer" ? watched.customer : "Agent") }) : null,
    el("p", { class: "message__body", text: m.body }),
    attachmentList(m.attachments, { imageLabel: "Image: %(name)s" }));
  const after = [...watchMessages.children].find((li) => Number(li.dataset.seq) > m.seq);
  watchMessages.insertBefore(item, after || null);
  watchMessages.scrollTop = watchMessages.scrollHeight;
}

document.getElementById("watch-stop").addEventListener("click", () => {
  if (watched) socket.send({ type: "unwatch", brand: watched.brand, conversation_id: watched.id });
  watched = null;
  watchBox.hidden = true;
});

whisperForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const body = whisperBody.value.trim();
  if (!body || !watched) return;
  whisperError.hidden = true;
  try {
    // A private note over HTTP, so a failure shows; customers never get notes.
    const message = await api(`brands/${watched.brand}/conversations/${watched.id}/messages`, {
      method: "POST", body: { body, internal: true, client_msg_id: crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}` },
    });
    showWatchedMessage(message);
    whisperBody.value = "";
  } catch (error) {
    whisperError.textContent = error.message;
    whisperError.hidden = false;
  }
});
whisperBody.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    whisperForm.requestSubmit();
  }
});

// Re-read the overview after every (re)connect, and shortly after what changes it (a
// burst of frames gives one read).
let soon = null;
// Promises in danger (docs/protocol.md, "alert"): escalations and SLA breaches, newest first.
const alerts = el("ul", { class: "alerts", id: "alerts", "aria-live": "assertive" });
root.before(alerts);

function showAlert(frame) {
  const when = new Date(frame.at).toLocaleTimeString();
  alerts.prepend(el("li", { class: "alert", role: "alert", dataset: { kind: frame.kind, conversation: String(frame.conversation_id) } },
    el("strong", { text: `${frame.brand_name}: ` }), frame.detail, el("span", { class: "muted", text: ` (${when})` })));
}

const socket = agentSocket();
socket.addEventListener("frame", (event) => {
  const frame = event.detail;
  if (watchedFrame(frame)) {
    if (frame.type === "message") showWatchedMessage(frame);
    else if (frame.type === "conversation.ended") watchTitle.textContent += " (ended)";
  }
  if (frame.type === "alert") {
    showAlert(frame);
  } else if (frame.type === "auth.ok") {
    refresh();
    // Catch up on the watched chat from the last message seen.
    if (watched) socket.send({ type: "watch", brand: watched.brand, conversation_id: watched.id, after_seq: watched.lastSeq });
  } else if (["queue.changed", "conversation.assigned", "conversation.unassigned"].includes(frame.type)) {
    clearTimeout(soon);
    soon = setTimeout(refresh, 200);
  }
});
socket.start();
refresh();
setInterval(refresh, 4000);
