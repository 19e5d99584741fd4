// The hosted chat page: pre-chat form, suggestions, queue, live chat, survey.
// Everything a customer or an agent typed is put in the page with textContent only.

const API = "/api/widget/v1";
const STORE_KEY = `helpdesk.chat.${location.host}`;
const app = document.getElementById("chat-app");
const params = new URLSearchParams(location.search);
const identityToken = params.get("identity") || "";

const state = {
  config: null,
  identity: null, // the verified prefill, when the brand passed a good token
  conversation: null, // {id, token, lastSeq, pending: [{client_msg_id, body}], surveyDone}
  ws: null,
  wsWanted: false,
  retries: 0,
  reconnectTimer: null,
  shownSeqs: new Set(),
  agentName: "",
  ended: false,
  lastPrechat: {},
};

// --- small helpers ---------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

const URL_PATTERN = /(https?:\/\/[^\s<>"']+)/g;

// Text with http(s) links made clickable, built node by node (never as HTML).
export function linkify(text) {
  const fragment = document.createDocumentFragment();
  for (const part of String(text).split(URL_PATTERN)) {
    if (!part) continue;
    let candidate = part;
    let trailing = "";
    if (/^https?:\/\//.test(part)) {
      const match = part.match(/[.,;:!?)\]]+$/);
      if (match) {
        trailing = match[0];
        candidate = part.slice(0, -trailing.length);
      }
      let url = null;
      try {
        url = new URL(candidate);
      } catch (error) {
        url = null;
      }
      if (url && (url.protocol === "http:" || url.protocol === "https:")) {
        fragment.append(el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer nofollow", text: candidate }));
        if (trailing) fragment.append(document.createTextNode(trailing));
        continue;
      }
    }
    fragment.append(document.createTextNode(part));
  }
  return fragment;
}

async function api(method, path, body, { auth = true } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (auth && state.conversation) headers.Authorization = `Bearer ${state.conversation.token}`;
  let response;
  try {
    response = await fetch(API + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: "omit" });
  } catch (error) {
    return { ok: false, status: 0, data: { detail: "We couldn't reach the server. Check your connection and try again.", code: "network" } };
  }
  let data = {};
  try {
    data = await response.json();
  } catch (error) {
    data = {};
  }
  return { ok: response.ok, status: response.status, data };
}

function save() {
  if (state.conversation) sessionStorage.setItem(STORE_KEY, JSON.stringify(state.conversation));
  else sessionStorage.removeItem(STORE_KEY);
}

function load() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    if (stored && stored.id && stored.token) return { lastSeq: 0, pending: [], surveyDone: false, ...stored };
  } catch (error) {
    /* a corrupt entry: start afresh */
  }
  return null;
}

function minutes(seconds) {
  const n = Math.max(1, Math.round((Number(seconds) || 0) / 60));
  return `about ${n} minute${n === 1 ? "" : "s"}`;
}

function screen(name, ...children) {
  app.replaceChildren(...children);
  app.dataset.screen = name;
  const heading = app.querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}

function alertBox(text, id) {
  return el("p", { class: "alert", role: "alert", id, text });
}

// --- the pre-chat form (also the offline-message form) --------------------------------

function fieldRow({ name, label, type = "text", required = false, value = "", locked = false, pattern, help, choices, autocomplete, multiline = false }) {
  const id = `f-${name.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
  const errorId = `${id}-error`;
  const helpId = help ? `${id}-help` : null;
  const describedBy = [helpId, errorId].filter(Boolean).join(" ");
  let input;
  if (type === "select") {
    input = el("select", { id, name, required, "aria-describedby": describedBy, disabled: locked, "aria-readonly": locked ? "true" : null },
      el("option", { value: "", text: "Choose…" }),
      (choices || []).map((choice) => {
        const [optionValue, optionLabel] = typeof choice === "object" ? [choice.slug, choice.name] : [choice, choice];
        return el("option", { value: optionValue, text: optionLabel, selected: String(value) === String(optionValue) });
      }));
  } else if (type === "checkbox") {
    input = el("input", { id, name, type: "checkbox", required, "aria-describedby": describedBy, disabled: locked, checked: value === true || value === "true" });
  } else if (multiline) {
    input = el("textarea", { id, name, rows: 3, required, maxlength: 2000, "aria-describedby": describedBy, readonly: locked });
    input.value = value || "";
  } else {
    input = el("input", { id, name, type, required, pattern: pattern || null, autocomplete, "aria-describedby": describedBy, readonly: locked });
    input.value = value ?? "";
  }
  const labelNode = el("label", { for: id }, label, required ? el("span", { class: "required", "aria-hidden": "true", text: " *" }) : null, locked ? el("span", { class: "muted", text: " (from your account)" }) : null);
  const row = el("div", { class: `field field-${type}` });
  if (type === "checkbox") row.append(el("div", { class: "check" }, input, labelNode));
  else row.append(labelNode, input);
  if (help) row.append(el("p", { class: "help muted", id: helpId, text: help }));
  row.append(el("p", { class: "field-error", id: errorId, hidden: true }));
  return row;
}

function prechatForm({ offline = false, notice = "" } = {}) {
  const config = state.config;
  const identity = state.identity || {};
  const idFields = identity.fields || {};
  const previous = state.lastPrechat;
  const value = (key) => identity[key] || previous[key] || "";
  const form = el("form", { class: "prechat", novalidate: true, "aria-labelledby": "prechat-h" });
  form.append(
    el("h1", { id: "prechat-h", text: offline ? "Leave us a message" : `Chat with ${config.brand.name}` }),
    // Node.append() writes null as the text "null"; an empty string adds nothing visible.
    notice ? el("p", { class: "notice", role: "status", text: notice }) : "",
    el("p", { class: "muted", text: offline ? "We'll reply by email." : "Tell us who you are and what you need; we'll suggest answers and connect you with an agent." }),
    el("div", { class: "alert", role: "alert", id: "form-alert", hidden: true }),
  );
  const you = el("fieldset", {}, el("legend", { text: "About you" }));
  you.append(
    fieldRow({ name: "name", label: "Name", required: true, value: value("name"), locked: Boolean(identity.name), autocomplete: "name" }),
    fieldRow({ name: "email", label: "Email", type: "email", required: true, value: value("email"), locked: Boolean(identity.email), autocomplete: "email" }),
    fieldRow({ name: "customer_id", label: "Customer ID", value: value("customer_id"), locked: Boolean(identity.customer_id), help: "Optional: from your account or order confirmation." }),
  );
  for (const field of config.custom_fields) {
    const locked = Object.prototype.hasOwnProperty.call(idFields, field.key);
    const fieldValue = locked ? idFields[field.key] : (previous.custom_fields || {})[field.key] ?? "";
    you.append(fieldRow({ name: `custom_fields.${field.key}`, label: field.label, type: field.type, required: field.required, value: fieldValue, locked, pattern: field.pattern, help: field.help_text, choices: field.choices }));
  }
  const problem = el("fieldset", {}, el("legend", { text: "Your question" }));
  problem.append(
    fieldRow({ name: "category", label: "Topic", type: "select", required: true, value: previous.category || "", choices: config.categories }),
    fieldRow({ name: "summary", label: "What do you need help with?", required: true, value: previous.summary || "", multiline: true }),
    fieldRow({ name: "product_id", label: "Product ID", value: previous.product_id || "", help: "Optional: the product or order this is about." }),
  );
  const submit = el("button", { type: "submit", class: "button button-primary", text: offline ? "Send message" : "Start chat" });
  form.append(you, problem, el("div", { class: "actions" }, submit));
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitPrechat(form, submit, offline);
  });
  return form;
}

function prechatData(form) {
  const data = { custom_fields: {} };
  for (const input of form.querySelectorAll("input, select, textarea")) {
    if (!input.name) continue;
    const fieldValue = input.type === "checkbox" ? input.checked : input.value;
    if (input.name.startsWith("custom_fields.")) data.custom_fields[input.name.slice(14)] = fieldValue;
    else data[input.name] = fieldValue;
  }
  if (state.identity && identityToken) data.identity = identityToken;
  return data;
}

function showFieldErrors(form, errors) {
  for (const node of form.querySelectorAll(".field-error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  let first = null;
  for (const [key, message] of Object.entries(errors || {})) {
    const input = form.querySelector(`[name="${CSS.escape(key)}"]`);
    if (!input) continue;
    const errorNode = document.getElementById(`${input.id}-error`);
    errorNode.textContent = message;
    errorNode.hidden = false;
    input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  return first;
}

async function submitPrechat(form, button, offline) {
  const data = prechatData(form);
  state.lastPrechat = data;
  const alert = form.querySelector("#form-alert");
  alert.hidden = true;
  button.disabled = true;
  const result = await api("POST", offline ? "/offline-messages" : "/conversations", data, { auth: false });
  button.disabled = false;
  if (!result.ok) {
    const first = showFieldErrors(form, result.data.errors);
    alert.textContent = result.data.errors ? "Please correct the highlighted fields." : result.data.detail || "Something went wrong. Please try again.";
    alert.hidden = false;
    (first || alert).focus();
    return;
  }
  if (offline) {
    screen("offline-sent", el("h1", { text: "Message sent" }), el("p", { role: "status", text: result.data.detail || "Thanks, we got your message and will reply by email." }));
    return;
  }
  state.conversation = { id: result.data.id, token: result.data.token, lastSeq: 0, pending: [], surveyDone: false };
  save();
  showSuggestions(result.data.suggestions || [], result.data.summary);
}

function showOffline(notice) {
  state.conversation = null;
  save();
  screen("offline", prechatForm({ offline: true, notice }));
}

// --- suggestions --------------------------------------------------------------------------

function showSuggestions(suggestions, summary = "") {
  const list = el("ul", { class: "suggestions" });
  for (const article of suggestions) {
    const bodyId = `article-${article.id}`;
    const body = el("div", { class: "article-body", id: bodyId, hidden: true });
    // body_html is the brand's own article, sanitized on the server (knowledge.selectors.article_html).
    body.innerHTML = article.body_html || "";
    const toggle = el("button", { type: "button", class: "link-button", "aria-expanded": "false", "aria-controls": bodyId, text: "Read the article" });
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? "Hide the article" : "Read the article";
      body.hidden = !open;
    });
    const solved = el("button", { type: "button", class: "button", text: "This solved my problem", "aria-describedby": `title-${article.id}` });
    solved.addEventListener("click", () => resolveWith(article, solved));
    list.append(el("li", { class: "suggestion" },
      el("h3", { id: `title-${article.id}`, text: article.title }),
      el("p", { class: "muted", text: article.summary }),
      toggle, body, el("div", { class: "actions" }, solved)));
  }
  const escalate = el("button", { type: "button", class: "button button-primary", text: "Chat with an agent" });
  escalate.addEventListener("click", () => escalateChat(escalate));
  screen("suggestions",
    el("h1", { text: suggestions.length ? "These articles might help" : "Let's get you to an agent" }),
    summary ? el("p", { class: "recap muted" }, "You asked: ", el("q", { id: "recap-summary", text: summary })) : null,
    el("p", { class: "alert", role: "alert", id: "suggest-alert", hidden: true }),
    suggestions.length ? list : el("p", { class: "muted", text: "We found no articles for this question." }),
    el("div", { class: "actions escalate" }, el("p", { text: suggestions.length ? "Still need help?" : "" }), escalate));
}

async function resolveWith(article, button) {
  button.disabled = true;
  const result = await api("POST", `/conversations/${state.conversation.id}/resolve`, { article_id: article.id });
  button.disabled = false;
  if (!result.ok) return showAlert("#suggest-alert", result.data.detail);
  state.conversation = null;
  save();
  screen("resolved", el("h1", { text: "Glad that helped!" }),
    el("p", { role: "status", text: `Thanks for letting us know that “${article.title}” solved your problem.` }),
    el("p", {}, el("a", { href: "/support/", target: "_top", text: "Back to the help center" })));
}

function showAlert(selector, text) {
  const node = app.querySelector(selector);
  if (node) {
    node.textContent = text || "Something went wrong. Please try again.";
    node.hidden = false;
    node.focus?.();
  }
}

async function escalateChat(button) {
  button.disabled = true;
  const result = await api("POST", `/conversations/${state.conversation.id}/escalate`);
  button.disabled = false;
  if (result.status === 409 && ["closed", "queue_full"].includes(result.data.code)) return showOffline(result.data.detail);
  if (!result.ok) return showAlert("#suggest-alert", result.data.detail);
  showQueue(result.data.position, result.data.eta_seconds);
  connect();
}

// --- queue ---------------------------------------------------------------------------------

function queueStatus(position, etaSeconds) {
  if (position === "…") return [el("p", { text: "Finding your place in the queue…" })];
  if (!position) {
    // Offered to an agent already: no longer counted among the waiting.
    return [el("p", { class: "queue-position", id: "queue-next", text: "You're next: an agent is about to join." })];
  }
  return [
    el("p", { class: "queue-position" }, "You are number ", el("strong", { id: "queue-position", text: position }), " in the queue."),
    el("p", { class: "queue-eta" }, "Estimated wait: ", el("strong", { id: "queue-eta", text: minutes(etaSeconds) }), "."),
  ];
}

function showQueue(position, etaSeconds) {
  const leave = el("button", { type: "button", class: "button", text: "Leave the queue" });
  leave.addEventListener("click", () => leaveQueue(leave));
  screen("queue",
    el("h1", { text: "Waiting for an agent" }),
    el("div", { class: "queue-status", id: "queue-status", role: "status", "aria-live": "polite" }, queueStatus(position, etaSeconds)),
    el("p", { class: "muted", text: "Keep this page open; an agent will join you here." }),
    el("p", { class: "alert", role: "alert", id: "queue-alert", hidden: true }),
    el("div", { class: "actions" }, leave));
}

function updateQueue(position, etaSeconds) {
  if (app.dataset.screen !== "queue") return showQueue(position, etaSeconds);
  app.querySelector("#queue-status").replaceChildren(...queueStatus(position, etaSeconds));
}

async function leaveQueue(button) {
  button.disabled = true;
  const result = await api("POST", `/conversations/${state.conversation.id}/leave`);
  button.disabled = false;
  if (!result.ok && result.status !== 409) return showAlert("#queue-alert", result.data.detail);
  disconnect();
  state.conversation = null;
  save();
  showLeft();
}

function showLeft() {
  const again = el("button", { type: "button", class: "button button-primary", text: "Start a new chat" });
  again.addEventListener("click", () => screen("form", prechatForm()));
  screen("left", el("h1", { text: "You left the queue" }), el("p", { role: "status", text: "No problem. You can start a new chat whenever you like." }), el("div", { class: "actions" }, again));
}

// --- the chat --------------------------------------------------------------------------------

let chatNodes = null;

function buildChat() {
  const list = el("ol", { class: "messages", id: "messages", "aria-label": "Messages", "aria-live": "polite", "aria-relevant": "additions" });
  const pendingList = el("ol", { class: "messages pending-list", id: "pending-messages", "aria-label": "Messages being sent" });
  const typing = el("p", { class: "typing muted", id: "typing", "aria-live": "polite" });
  const input = el("textarea", { id: "composer-input", name: "body", rows: 2, maxlength: 4000, required: true, placeholder: "Type your message", "aria-describedby": "composer-hint" });
  const send = el("button", { type: "submit", class: "button button-primary", text: "Send" });
  const composer = el("form", { class: "composer", id: "composer", "aria-label": "Send a message" },
    el("label", { for: "composer-input", class: "visually-hidden", text: "Message" }),
    input, send,
    el("p", { id: "composer-hint", class: "visually-hidden", text: "Press Enter to send, Shift and Enter for a new line." }));
  const endButton = el("button", { type: "button", class: "button", id: "end-chat", text: "End chat" });
  const connection = el("p", { class: "connection muted", id: "connection", role: "status" });
  const title = el("h1", { id: "chat-title", text: "Chat" });
  const endArea = el("section", { id: "ended", class: "ended", hidden: true, "aria-labelledby": "ended-h" });
  const root = el("div", { class: "chat" }, el("div", { class: "chat-top" }, title, endButton), connection, list, pendingList, typing, composer, endArea);
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    sendMessage(input.value);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      composer.requestSubmit();
    }
  });
  input.addEventListener("input", typingChanged);
  endButton.addEventListener("click", endChat);
  chatNodes = { root, list, pendingList, typing, input, composer, endButton, connection, title, endArea };
  return root;
}

function showChat() {
  if (!chatNodes) buildChat();
  if (app.dataset.screen !== "chat") {
    app.replaceChildren(chatNodes.root);
    app.dataset.screen = "chat";
  }
  chatNodes.title.textContent = state.agentName ? `Chatting with ${state.agentName}` : "Chat";
  if (!state.ended) chatNodes.input.focus();
}

function messageNode(frame, { pending = false } = {}) {
  const who = frame.sender === "customer" ? "You" : frame.author || (frame.sender === "agent" ? "Agent" : "");
  if (frame.sender === "system") {
    return el("li", { class: "message system", "data-seq": frame.seq }, el("span", { text: frame.body }));
  }
  const time = frame.sent_at ? new Date(frame.sent_at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
  const bubble = el("div", { class: "bubble" });
  bubble.append(linkify(frame.body));
  return el("li", { class: `message ${frame.sender}${pending ? " pending" : ""}`, "data-seq": frame.seq ?? null, "data-client-msg-id": frame.client_msg_id || null },
    el("span", { class: "author", text: who }), bubble,
    el("span", { class: "meta muted" }, time ? el("time", { datetime: frame.sent_at, text: time }) : null, el("span", { class: "status", text: pending ? "Sending…" : "" })));
}

function renderMessage(frame) {
  if (frame.internal) return;
  const seq = Number(frame.seq);
  if (state.shownSeqs.has(seq)) return; // a resent or replayed frame we already show
  if (!chatNodes) buildChat();
  const gap = seq > state.conversation.lastSeq + 1;
  state.shownSeqs.add(seq);
  const node = messageNode(frame);
  // Keep the list in seq order even when a gap is filled afterwards.
  const later = [...chatNodes.list.children].find((child) => Number(child.dataset.seq) > seq);
  chatNodes.list.insertBefore(node, later || null);
  if (frame.client_msg_id && frame.sender === "customer") {
    chatNodes.pendingList.querySelector(`[data-client-msg-id="${CSS.escape(frame.client_msg_id)}"]`)?.remove();
    state.conversation.pending = state.conversation.pending.filter((item) => item.client_msg_id !== frame.client_msg_id);
  }
  const previousLast = state.conversation.lastSeq;
  state.conversation.lastSeq = Math.max(previousLast, seq);
  save();
  if (frame.sender === "agent") {
    setTyping(false);
    markRead();
  }
  if (gap) fillGap(previousLast);
  node.scrollIntoView({ block: "nearest" });
}

async function fillGap(afterSeq) {
  // The channel layer may drop an event; Postgres has every message.
  const result = await api("GET", `/conversations/${state.conversation.id}/messages?after_seq=${afterSeq}`);
  if (result.ok) for (const frame of result.data.messages) renderMessage(frame);
}

function sendMessage(text) {
  const body = String(text || "").trim() ? String(text) : "";
  if (!body || state.ended) return;
  const item = { client_msg_id: crypto.randomUUID(), body };
  state.conversation.pending.push(item);
  save();
  chatNodes.pendingList.append(messageNode({ sender: "customer", body, client_msg_id: item.client_msg_id }, { pending: true }));
  sendFrame({ type: "message.send", ...item });
  sendTyping(false);
}

function resendPending() {
  if (!chatNodes) buildChat();
  for (const item of state.conversation.pending) {
    if (!chatNodes.pendingList.querySelector(`[data-client-msg-id="${CSS.escape(item.client_msg_id)}"]`)) {
      chatNodes.pendingList.append(messageNode({ sender: "customer", body: item.body, client_msg_id: item.client_msg_id }, { pending: true }));
    }
    sendFrame({ type: "message.send", ...item });
  }
}

let typingSentAt = 0;
let typingStopTimer = null;

function typingChanged() {
  const now = Date.now();
  if (now - typingSentAt > 3000) sendTyping(true);
  clearTimeout(typingStopTimer);
  typingStopTimer = setTimeout(() => sendTyping(false), 4000);
}

function sendTyping(isTyping) {
  typingSentAt = isTyping ? Date.now() : 0;
  if (!isTyping) clearTimeout(typingStopTimer);
  sendFrame({ type: "typing", is_typing: isTyping });
}

let typingHideTimer = null;

function setTyping(isTyping) {
  if (!chatNodes) return;
  clearTimeout(typingHideTimer);
  chatNodes.typing.textContent = isTyping ? `${state.agentName || "The agent"} is typing…` : "";
  if (isTyping) typingHideTimer = setTimeout(() => setTyping(false), 8000);
}

function markRead() {
  if (document.visibilityState === "visible") sendFrame({ type: "read", up_to_seq: state.conversation.lastSeq });
}

function markSeen(upToSeq) {
  if (!chatNodes) return;
  let last = null;
  for (const node of chatNodes.list.querySelectorAll(".message.customer")) {
    node.querySelector(".status").textContent = "";
    if (Number(node.dataset.seq) <= upToSeq) last = node;
  }
  if (last) last.querySelector(".status").textContent = "Seen";
}

function endChat() {
  if (!sendFrame({ type: "conversation.end" })) api("POST", `/conversations/${state.conversation.id}/end`);
}

function showEnded(frame) {
  if (state.ended) return;
  state.ended = true;
  disconnect();
  showChat();
  chatNodes.composer.hidden = true;
  chatNodes.endButton.hidden = true;
  setTyping(false);
  const area = chatNodes.endArea;
  area.hidden = false;
  area.replaceChildren(el("h2", { id: "ended-h", text: "The chat has ended" }));
  if (frame.state === "ended" && !state.conversation.surveyDone && state.hadAgent !== false) area.append(surveyForm());
  const transcript = el("button", { type: "button", class: "button", text: "Email me the transcript" });
  const transcriptStatus = el("p", { role: "status", class: "muted" });
  transcript.addEventListener("click", async () => {
    transcript.disabled = true;
    const result = await api("POST", `/conversations/${state.conversation.id}/transcript`);
    transcriptStatus.textContent = result.data.detail || (result.ok ? "The transcript is on its way." : "We couldn't send the transcript.");
    if (!result.ok && result.data.code !== "already_requested") transcript.disabled = false;
  });
  const again = el("button", { type: "button", class: "button", text: "Start a new chat" });
  again.addEventListener("click", () => {
    state.conversation = null;
    save();
    location.reload();
  });
  area.append(el("div", { class: "actions" }, transcript, again), transcriptStatus);
  area.querySelector("h2").setAttribute("tabindex", "-1");
  area.querySelector("h2").focus();
}

function surveyForm() {
  const form = el("form", { class: "survey", id: "survey", "aria-labelledby": "survey-h" });
  const radios = el("div", { class: "rating" });
  for (let n = 1; n <= 5; n += 1) {
    radios.append(el("label", {}, el("input", { type: "radio", name: "rating", value: n, required: true }), ` ${n}`));
  }
  const status = el("p", { role: "status", id: "survey-status" });
  form.append(
    el("h3", { id: "survey-h", text: "How did we do?" }),
    el("fieldset", {}, el("legend", { text: "Rate your chat from 1 (poor) to 5 (excellent)" }), radios),
    el("label", { for: "survey-comment", text: "Comment (optional)" }),
    el("textarea", { id: "survey-comment", name: "comment", rows: 3, maxlength: 2000 }),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button button-primary", text: "Send feedback" })),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const rating = form.querySelector("input[name=rating]:checked");
    if (!rating) {
      status.textContent = "Choose a rating from 1 to 5.";
      return;
    }
    const result = await api("POST", `/conversations/${state.conversation.id}/survey`, { rating: Number(rating.value), comment: form.querySelector("#survey-comment").value });
    if (result.ok || result.data.code === "already_answered") {
      state.conversation.surveyDone = true;
      save();
      form.replaceChildren(el("p", { role: "status", class: "notice", id: "survey-thanks", text: result.data.detail || "Thank you for your feedback." }));
    } else {
      status.textContent = result.data.detail || "We couldn't save your answer.";
    }
  });
  return form;
}

// --- the socket ---------------------------------------------------------------------------

function sendFrame(frame) {
  if (state.ws && state.ws.readyState === WebSocket.OPEN && state.ws.authenticated) {
    state.ws.send(JSON.stringify(frame));
    return true;
  }
  return false;
}

function connect() {
  state.wsWanted = true;
  clearTimeout(state.reconnectTimer);
  if (state.ws && state.ws.readyState <= WebSocket.OPEN) return;
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${scheme}://${location.host}/ws/widget/v1/conversations/${state.conversation.id}/`);
  ws.authenticated = false;
  state.ws = ws;
  ws.addEventListener("open", () => {
    ws.send(JSON.stringify({ type: "auth", token: state.conversation.token, after_seq: state.conversation.lastSeq }));
  });
  ws.addEventListener("message", (event) => {
    let frame;
    try {
      frame = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    onFrame(ws, frame);
  });
  ws.addEventListener("close", (event) => {
    if (state.ws === ws) state.ws = null;
    setConnection(state.wsWanted ? "Reconnecting…" : "");
    if (event.code === 4401) {
      state.wsWanted = false;
      state.conversation = null;
      save();
      screen("expired", el("h1", { text: "This chat is no longer available" }), el("p", { role: "alert", text: "Start a new chat to reach us again." }), el("a", { href: "/chat/", class: "button", text: "Start a new chat" }));
      return;
    }
    if (state.wsWanted) scheduleReconnect();
  });
}

function scheduleReconnect() {
  const backoff = Math.min(10000, 400 * 2 ** state.retries) * (0.75 + Math.random() * 0.5);
  const delay = Math.max(backoff, (state.pausedUntil || 0) - Date.now());
  state.retries += 1;
  clearTimeout(state.reconnectTimer);
  state.reconnectTimer = setTimeout(connect, delay);
}

function disconnect() {
  state.wsWanted = false;
  clearTimeout(state.reconnectTimer);
  if (state.ws) state.ws.close(1000);
  state.ws = null;
}

function setConnection(text) {
  if (chatNodes) chatNodes.connection.textContent = text;
}

function onFrame(ws, frame) {
  switch (frame.type) {
    case "auth.ok":
      ws.authenticated = true;
      state.retries = 0;
      setConnection("");
      if (frame.agent) state.agentName = frame.agent.name;
      if (frame.state === "active") {
        showChat();
        resendPending();
      } else if (frame.state === "queued" && app.dataset.screen !== "queue") {
        showQueue("…", 0);
      }
      if (frame.agent_read_seq) queueMicrotask(() => markSeen(frame.agent_read_seq));
      break;
    case "message":
      renderMessage(frame);
      break;
    case "queue.position":
      if (!state.ended && app.dataset.screen !== "chat") updateQueue(frame.position, frame.eta_seconds);
      break;
    case "agent.joined":
      state.agentName = frame.agent?.name || "An agent";
      state.hadAgent = true;
      showChat();
      break;
    case "agent.left":
      setTyping(false);
      break;
    case "typing":
      if (frame.sender === "agent") setTyping(Boolean(frame.is_typing));
      break;
    case "read":
      if (frame.reader === "agent") markSeen(Number(frame.up_to_seq));
      break;
    case "conversation.ended":
      if (frame.state === "abandoned") {
        disconnect();
        state.conversation = null;
        save();
        showLeft();
      } else {
        showEnded(frame);
      }
      break;
    case "survey.requested":
      if (chatNodes && !chatNodes.endArea.querySelector("#survey") && !state.conversation.surveyDone) chatNodes.endArea.prepend(surveyForm());
      break;
    case "error":
      if (frame.client_msg_id) {
        const node = chatNodes?.pendingList.querySelector(`[data-client-msg-id="${CSS.escape(frame.client_msg_id)}"]`);
        if (node) {
          node.classList.add("failed");
          node.querySelector(".status").textContent = `Not sent: ${frame.detail}`;
          state.conversation.pending = state.conversation.pending.filter((item) => item.client_msg_id !== frame.client_msg_id);
          save();
          break;
        }
      }
      setConnection(frame.detail || "");
      break;
    default:
      break;
  }
}

// --- start -------------------------------------------------------------------------------

async function resume(stored) {
  state.conversation = stored;
  const result = await api("GET", `/conversations/${stored.id}`);
  if (!result.ok) {
    state.conversation = null;
    save();
    return false;
  }
  const conversation = result.data;
  state.agentName = conversation.agent ? conversation.agent.name : "";
  state.hadAgent = Boolean(conversation.agent);
  switch (conversation.state) {
    case "suggesting":
      showSuggestions(conversation.suggestions || [], conversation.summary);
      return true;
    case "queued":
      await fillGap(0);
      showQueue(conversation.position, conversation.eta_seconds);
      connect();
      return true;
    case "active":
      await fillGap(0); // the history so far, then the socket resumes after it
      showChat();
      connect();
      return true;
    case "ended":
      if (conversation.survey?.answered) state.conversation.surveyDone = true;
      if (!conversation.survey?.requested) state.hadAgent = false;
      showChat();
      await fillGap(0);
      showEnded({ state: "ended" });
      return true;
    default:
      state.conversation = null;
      save();
      return false;
  }
}

async function start() {
  let identityError = "";
  let result = await api("GET", `/config${identityToken ? `?identity=${encodeURIComponent(identityToken)}` : ""}`, undefined, { auth: false });
  if (!result.ok && identityToken) {
    identityError = result.data.detail || "We couldn't confirm who you are.";
    result = await api("GET", "/config", undefined, { auth: false });
  }
  if (!result.ok) {
    screen("error", el("h1", { text: "Chat is unavailable" }), alertBox(result.data.detail || "Please try again later."));
    return;
  }
  state.config = result.data;
  state.identity = result.data.identity;
  document.documentElement.style.setProperty("--brand", state.config.brand.color);
  const stored = load();
  if (stored && (await resume(stored))) return;
  const availability = state.config.availability;
  if (availability !== "open") {
    const why = availability === "closed" ? "We're closed right now." : "All our agents are busy and the queue is full.";
    screen("offline", prechatForm({ offline: true, notice: `${why} Leave us a message and we'll get back to you by email.` }));
  } else {
    screen("form", prechatForm());
  }
  if (identityError) {
    app.querySelector("form").prepend(el("p", { class: "alert", role: "alert", id: "identity-error", text: `We couldn't sign you in automatically: ${identityError} Please fill in your details.` }));
  }
}

document.addEventListener("visibilitychange", () => {
  if (state.conversation && app.dataset.screen === "chat") markRead();
});

// Inside the widget's iframe, Escape closes the widget (the parent cannot see the key).
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && window.parent !== window) window.parent.postMessage({ type: "helpdesk-widget.close" }, "*");
});

// A hook for tests and support staff: drop the socket as a network failure would.
window.__chat = {
  // pauseMs: how long the simulated outage lasts before the reconnect timer may run.
  dropSocket(pauseMs = 0) {
    state.pausedUntil = Date.now() + pauseMs;
    if (state.ws) state.ws.close(4000, "dropped");
  },
  get state() {
    return { screen: app.dataset.screen, lastSeq: state.conversation?.lastSeq, connected: Boolean(state.ws?.authenticated) };
  },
};

start();
