// The page that embeds the chat (the widget on a brand's own site, templates/chat/widget.js)
// and how the chat page talks to it with postMessage.
//
// Inside another site's iframe the chat page must not touch sessionStorage or localStorage:
// Chromium denies them to cross-site frames (reading the property throws), Safari and
// Firefox partition them. The conversation lives in memory here and is kept by the host
// page in its own, first-party storage, so a reload or a second tab of the brand's site
// resumes the same chat. Opened top-level (the hosted /chat/ page), the page keeps it in
// its own sessionStorage.
//
// Origins are checked both ways. The widget script tells the frame its page's origin in
// ?host_origin=; the frame sends only to that origin (postMessage drops a message whose
// target origin is not the parent's) and accepts only messages from window.parent that come
// from it. The widget script accepts only messages from this frame, from the brand's origin.

const params = new URLSearchParams(location.search);
export const embedded = window.parent !== window;
const announcedOrigin = params.get("host_origin") || "";
// Where the browser says who the parent is (Chromium, WebKit), it must agree.
const actualOrigin = location.ancestorOrigins && location.ancestorOrigins.length ? location.ancestorOrigins[0] : announcedOrigin;
export const hostOrigin = embedded && announcedOrigin && announcedOrigin === actualOrigin ? announcedOrigin : "";

const TOP_LEVEL_KEY = `helpdesk.chat.${location.host}`;
// Bounded: a page that frames /chat/ without the widget script never answers.
const INIT_TIMEOUT_MS = 3000;

const listeners = new Map();

// onHost("visibility", (message) => ...): a message of that type from the host page.
export function onHost(type, handler) {
  listeners.set(type, handler);
}

export function toHost(message) {
  if (hostOrigin) window.parent.postMessage(message, hostOrigin);
}

if (hostOrigin) {
  window.addEventListener("message", (event) => {
    if (event.source !== window.parent || event.origin !== hostOrigin) return;
    const data = event.data;
    if (!data || typeof data.type !== "string" || !data.type.startsWith("helpdesk-widget.")) return;
    const handler = listeners.get(data.type.slice("helpdesk-widget.".length));
    if (handler) handler(data);
  });
}

// What the host page knows at start: {conversation, prefill, identity, open}. Top-level, the page's own
// sessionStorage; embedded, the host page's answer to "ready" (nothing if it never answers).
export function hostInit() {
  if (!embedded) return Promise.resolve({ conversation: readTopLevel(), prefill: {}, open: true });
  if (!hostOrigin) return Promise.resolve({ conversation: null, prefill: {}, open: true });
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ conversation: null, prefill: {}, open: false }), INIT_TIMEOUT_MS);
    onHost("init", (message) => {
      clearTimeout(timer);
      resolve({ conversation: message.conversation || null, prefill: message.prefill || {}, identity: typeof message.identity === "string" ? message.identity : null, open: Boolean(message.open) });
    });
    toHost({ type: "helpdesk-widget.ready" });
  });
}

// Keep the conversation (or forget it, with null) where it survives a reload.
export function hostStore(conversation) {
  if (embedded) {
    toHost({ type: "helpdesk-widget.store", conversation });
    return;
  }
  try {
    if (conversation) sessionStorage.setItem(TOP_LEVEL_KEY, JSON.stringify(conversation));
    else sessionStorage.removeItem(TOP_LEVEL_KEY);
  } catch (error) {
    /* storage refused (private mode, a full quota): the chat goes on in memory */
  }
}

function readTopLevel() {
  try {
    return JSON.parse(sessionStorage.getItem(TOP_LEVEL_KEY) || "null");
  } catch (error) {
    return null;
  }
}
