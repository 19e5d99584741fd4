// The live chat: the transcript in seq order, messages being sent, the composer, typing and
// "Seen" markers, and the connection line ("Reconnecting…") while the socket is away.
// A message the customer sends is kept as pending (also where the conversation is kept) until the server
// echoes it with its seq, and sent again with the same client_msg_id after a reconnect.
// Files are uploaded first (the tray shows each one's progress or why it was refused) and
// the message then names them in attachment_ids; a resent message names the same ones.
import { acceptDroppedFiles, attachmentList, AttachmentTray, uploadFile } from "../../common/attachments.js";
import { el } from "../../common/dom.js";
import { widgetApi } from "../api.js";
import { linkify } from "../linkify.js";
import { widgetSocket } from "../socket.js";
import { saveConversation, state } from "../state.js";
import { unreadRecount } from "../unread.js";
import { app } from "./screen.js";
import { _, format, ngettext, pageLocale } from "../i18n.js";

// The chat's nodes, built once and kept across screens (the history stays when it ends).
export let chatNodes = null;

function buildChat() {
  const list = el("ol", { class: "messages", id: "messages", "aria-label": _("Messages"), "aria-live": "polite", "aria-relevant": "additions" });
  const pendingList = el("ol", { class: "messages pending-list", id: "pending-messages", "aria-label": _("Messages being sent") });
  const typing = el("p", { class: "typing muted", id: "typing", "aria-live": "polite" });
  const input = el("textarea", { id: "composer-input", name: "body", rows: 2, maxlength: 4000, placeholder: _("Type your message"), "aria-describedby": "composer-hint" });
  const send = el("button", { type: "submit", class: "button button-primary", text: _("Send") });
  const fileInput = el("input", { type: "file", id: "composer-file", multiple: true, hidden: true });
  const attach = el("button", { type: "button", class: "button composer-attach", id: "composer-attach", text: _("Attach a file") });
  const tray = new AttachmentTray({
    upload: uploadAttachment,
    locale: pageLocale,
    text: {
      tray: _("Files to send"), uploading: _("Uploading… %(percent)s"), ready: _("Ready to send"), remove: _("Remove %(name)s"),
      failed: _("This file could not be uploaded."), network: _("We couldn't reach the server. Check your connection and try again."),
    },
  });
  const composerNote = el("p", { class: "composer-note muted", role: "status" });
  const composer = el("form", { class: "composer", id: "composer", "aria-label": _("Send a message") },
    el("label", { for: "composer-input", class: "visually-hidden", text: _("Message") }),
    tray.node, input, el("div", { class: "composer-actions" }, attach, fileInput, send), composerNote,
    el("p", { id: "composer-hint", class: "visually-hidden", text: _("Press Enter to send, Shift and Enter for a new line.") }));
  attach.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    tray.add([...fileInput.files]);
    fileInput.value = "";
  });
  const endButton = el("button", { type: "button", class: "button", id: "end-chat", text: _("End chat") });
  const connection = el("p", { class: "connection muted", id: "connection", role: "status" });
  const title = el("h1", { id: "chat-title", text: _("Chat") });
  const endArea = el("section", { id: "ended", class: "ended", hidden: true, "aria-labelledby": "ended-h" });
  const root = el("div", { class: "chat" }, el("div", { class: "chat-top" }, title, endButton), connection, list, pendingList, typing, composer, endArea);
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    if (sendMessage(input.value)) input.value = "";
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
  acceptDroppedFiles({ zone: root, input, tray, enabled: () => !state.ended });
  chatNodes = { root, list, pendingList, typing, input, composer, endButton, connection, title, endArea, tray, composerNote };
  return root;
}

// The transcript and the composer, for the queue screen to show under the customer's place
// (they may write while waiting).
export function chatRoot({ queued }) {
  if (!chatNodes) buildChat();
  chatNodes.root.classList.toggle("queued", queued);
  return chatNodes.root;
}

export function showChat() {
  if (!chatNodes) buildChat();
  chatNodes.root.classList.remove("queued");
  if (app.dataset.screen !== "chat") {
    app.replaceChildren(chatNodes.root);
    app.dataset.screen = "chat";
  }
  chatNodes.title.textContent = state.ended ? _("Chat ended") : state.agentName ? format(_("Chatting with %(name)s"), { name: state.agentName }) : _("Chat");
  if (!state.ended) chatNodes.input.focus();
}

function messageNode(frame, { pending = false } = {}) {
  const who = frame.sender === "customer" ? _("You") : frame.author || (frame.sender === "agent" ? _("Agent") : "");
  if (frame.sender === "system") {
    return el("li", { class: "message system", "data-seq": frame.seq }, el("span", { text: frame.body }));
  }
  const time = frame.sent_at ? new Date(frame.sent_at).toLocaleTimeString(pageLocale, { hour: "2-digit", minute: "2-digit" }) : "";
  const bubble = el("div", { class: "bubble" });
  if (frame.body) bubble.append(linkify(frame.body));
  const files = attachmentList(frame.attachments, { locale: pageLocale, imageLabel: _("Image: %(name)s") });
  if (files) bubble.append(files);
  return el("li", { class: `message ${frame.sender}${pending ? " pending" : ""}`, "data-seq": frame.seq ?? null, "data-client-msg-id": frame.client_msg_id || null },
    el("span", { class: "author", text: who }), bubble,
    el("span", { class: "meta muted" }, time ? el("time", { datetime: frame.sent_at, text: time }) : null, el("span", { class: "status", text: pending ? _("Sending…") : "" })));
}

function pendingNode(clientMsgId) {
  return chatNodes?.pendingList.querySelector(`[data-client-msg-id="${CSS.escape(clientMsgId)}"]`);
}

function dropPending(clientMsgId) {
  state.conversation.pending = state.conversation.pending.filter((item) => item.client_msg_id !== clientMsgId);
}

export function renderMessage(frame) {
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
    pendingNode(frame.client_msg_id)?.remove();
    dropPending(frame.client_msg_id);
  }
  const previousLast = state.conversation.lastSeq;
  state.conversation.lastSeq = Math.max(previousLast, seq);
  if (frame.sender === "agent") state.agentSeqs.add(seq);
  unreadRecount();
  saveConversation();
  if (frame.sender === "agent") {
    setTyping(false);
    markRead();
  }
  if (gap) fillGap(previousLast);
  node.scrollIntoView({ block: "nearest" });
}

// Show every stored message after afterSeq (0: the whole history so far).
export async function fillGap(afterSeq) {
  // The channel layer may drop an event; Postgres has every message.
  const result = await widgetApi("GET", `/conversations/${state.conversation.id}/messages?after_seq=${afterSeq}`);
  if (result.ok) for (const frame of result.data.messages) renderMessage(frame);
}

function uploadAttachment(file, onProgress) {
  return uploadFile({
    url: `/api/widget/v1/conversations/${state.conversation.id}/attachments`,
    file,
    onProgress,
    headers: { Authorization: `Bearer ${state.conversation.token}`, "X-Helpdesk-Locale": document.documentElement.lang || "en" },
  });
}

// What a pending message shows of its files: their names (links come with the stored message).
const pendingFiles = (item) => (item.files || []).map((file) => ({ ...file, download_url: null, thumbnail_url: null, is_image: false }));

// True when the message went out (the composer may be emptied).
function sendMessage(text) {
  const body = String(text || "").trim() ? String(text) : "";
  const { tray, composerNote } = chatNodes;
  composerNote.textContent = "";
  if (state.ended) return false;
  if (tray.busy) {
    composerNote.textContent = _("Wait until your files have uploaded, then send.");
    return false;
  }
  const files = tray.ready();
  if (!body && !files.length) return false;
  const item = { client_msg_id: crypto.randomUUID(), body };
  if (files.length) {
    item.attachment_ids = files.map((file) => file.id);
    item.files = files.map((file) => ({ id: file.id, name: file.meta.name, size: file.meta.size }));
  }
  tray.clear();
  state.conversation.pending.push(item);
  saveConversation();
  chatNodes.pendingList.append(messageNode({ sender: "customer", body, client_msg_id: item.client_msg_id, attachments: pendingFiles(item) }, { pending: true }));
  widgetSocket.send(sendFrame(item));
  sendTyping(false);
  return true;
}

function sendFrame(item) {
  const frame = { type: "message.send", client_msg_id: item.client_msg_id, body: item.body };
  if (item.attachment_ids) frame.attachment_ids = item.attachment_ids;
  return frame;
}

// After (re)authenticating: send again what the server has not confirmed yet.
export function resendPending() {
  if (!chatNodes) buildChat();
  for (const item of state.conversation.pending) {
    if (!pendingNode(item.client_msg_id)) {
      chatNodes.pendingList.append(messageNode({ sender: "customer", body: item.body, client_msg_id: item.client_msg_id, attachments: pendingFiles(item) }, { pending: true }));
    }
    widgetSocket.send(sendFrame(item));
  }
}

// The server refused a message (error frame with its client_msg_id): say so next to it.
// False when no message of ours is waiting under that id.
export function markNotSent(clientMsgId, detail) {
  const node = pendingNode(clientMsgId);
  if (!node) return false;
  node.classList.add("failed");
  node.querySelector(".status").textContent = format(_("Not sent: %(reason)s"), { reason: detail });
  dropPending(clientMsgId);
  saveConversation();
  return true;
}

// "Typing" goes out at most every 3 s while keys are pressed, and stops 4 s after the last.
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
  widgetSocket.send({ type: "typing", is_typing: isTyping });
}

// The agent's "typing" fades by itself if its "stopped" never arrives.
let typingHideTimer = null;

export function setTyping(isTyping) {
  if (!chatNodes) return;
  clearTimeout(typingHideTimer);
  chatNodes.typing.textContent = isTyping ? format(_("%(name)s is typing…"), { name: state.agentName || _("The agent") }) : "";
  if (isTyping) typingHideTimer = setTimeout(() => setTyping(false), 8000);
}

export function markRead() {
  // Not while the widget is closed on the host page: nobody has read it yet.
  if (document.visibilityState === "visible" && state.widgetOpen) widgetSocket.send({ type: "read", up_to_seq: state.conversation.lastSeq });
}

// "Seen" under the customer's last message the agent has read.
export function markSeen(upToSeq) {
  if (!chatNodes) return;
  let last = null;
  for (const node of chatNodes.list.querySelectorAll(".message.customer")) {
    node.querySelector(".status").textContent = "";
    if (Number(node.dataset.seq) <= upToSeq) last = node;
  }
  if (last) last.querySelector(".status").textContent = _("Seen");
}

export function setConnection(text) {
  if (chatNodes) chatNodes.connection.textContent = text;
}

function endChat() {
  if (!widgetSocket.send({ type: "conversation.end" })) widgetApi("POST", `/conversations/${state.conversation.id}/end`);
}
