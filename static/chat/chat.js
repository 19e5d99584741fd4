// The hosted chat page (/chat/, also inside the widget's iframe): resumes the conversation
// the host page or this page kept (host.js), or starts with the pre-chat form. The screens
// are in screens/, the socket's frames in frames.js.
// Everything a customer or an agent typed is put in the page with textContent only.
import { el } from "../common/dom.js";
import { widgetApi } from "./api.js";
import { listenToWidgetSocket } from "./frames.js";
import { widgetSocket } from "./socket.js";
import { embedded, hostInit, onHost, toHost } from "./host.js";
import { conversationFrom, forgetConversation, saveConversation, state } from "./state.js";
import { unreadRecount } from "./unread.js";
import { showEnded } from "./screens/ended.js";
import { fillGap, markRead, showChat } from "./screens/live-chat.js";
import { showOffline, showPrechat } from "./screens/prechat.js";
import { showQueue } from "./screens/queue.js";
import { app } from "./screens/screen.js";
import { showSuggestions } from "./screens/suggestions.js";
import { showUnavailable, unavailableNotice } from "./screens/unavailable.js";
import { _, format, ngettext, pageLocale } from "./i18n.js";

// Back to where the stored conversation is; false when it is gone or over.
async function resume(stored) {
  state.conversation = stored;
  state.shownSeqs.clear();
  const result = await widgetApi("GET", `/conversations/${stored.id}`);
  if (!result.ok) {
    forgetConversation();
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
      widgetSocket.start();
      return true;
    case "active":
      await fillGap(0); // the history so far, then the socket resumes after it
      showChat();
      widgetSocket.start();
      return true;
    case "ended":
      if (conversation.survey?.answered) state.conversation.surveyDone = true;
      if (!conversation.survey?.requested) state.hadAgent = false;
      showChat();
      await fillGap(0);
      showEnded({ state: "ended" });
      return true;
    default:
      forgetConversation();
      return false;
  }
}

// Whether the host page should show its launcher: not while the brand is closed and takes
// no offline messages, unless a chat is already going.
function tellHostStatus() {
  const config = state.config;
  const launcher = Boolean(state.conversation) || (config && (config.availability === "open" || config.offline_form));
  toHost({ type: "helpdesk-widget.status", launcher: Boolean(launcher) });
}

async function loadConfig() {
  let identityError = "";
  const token = state.identityToken;
  let result = await widgetApi("GET", `/config${token ? `?identity=${encodeURIComponent(token)}` : ""}`, undefined, { auth: false });
  if (!result.ok && token) {
    // A bad identity token must not keep the customer out: they fill in the form instead.
    identityError = result.data.detail || _("We couldn't confirm who you are.");
    result = await widgetApi("GET", "/config", undefined, { auth: false });
  }
  return { result, identityError };
}

async function start(host) {
  const { result, identityError } = await loadConfig();
  if (!result.ok) {
    showUnavailable(result.data.detail);
    return;
  }
  state.config = result.data;
  state.identity = result.data.identity;
  document.documentElement.style.setProperty("--brand", state.config.brand.color);
  const stored = conversationFrom(host.conversation);
  if (stored && (await resume(stored))) {
    tellHostStatus();
    return;
  }
  showStart();
  tellHostStatus();
  if (identityError) {
    app.querySelector("form").prepend(el("p", { class: "alert", role: "alert", id: "identity-error", text: format(_("We couldn't sign you in automatically: %(reason)s Please fill in your details."), { reason: identityError }) }));
  }
}

function showStart() {
  const availability = state.config.availability;
  if (availability !== "open") {
    if (state.config.offline_form) showOffline(unavailableNotice(state.config));
    else showUnavailable(state.config.availability_detail);
  } else {
    showPrechat();
  }
}

// The host page's messages after the start (host.js checks where they come from).
onHost("visibility", (message) => {
  state.widgetOpen = Boolean(message.open);
  if (unreadRecount()) saveConversation();
  if (state.widgetOpen && state.conversation && app.dataset.screen === "chat") markRead();
});
onHost("identify", async (message) => {
  state.identityToken = typeof message.token === "string" ? message.token : "";
  // Only the form changes: a chat already going keeps who it was started by.
  if (state.conversation || !["form", "offline"].includes(app.dataset.screen)) return;
  const { result } = await loadConfig();
  if (!result.ok) return;
  state.config = result.data;
  state.identity = result.data.identity;
  showStart();
});
// Another tab of the brand's site started (or forgot) a chat: follow it from the form.
onHost("stored", async (message) => {
  const stored = conversationFrom(message.conversation);
  if (stored && !state.conversation && ["form", "offline", "left"].includes(app.dataset.screen)) await resume(stored);
});

document.addEventListener("visibilitychange", () => {
  if (unreadRecount()) saveConversation();
  if (state.conversation && app.dataset.screen === "chat") markRead();
});

// Inside the widget's iframe, Escape closes the widget (the parent cannot see the key).
document.addEventListener("keydown", (event) => {
  if (event.key === "Escape" && embedded) toHost({ type: "helpdesk-widget.close" });
});

listenToWidgetSocket();
hostInit().then((host) => {
  state.widgetOpen = host.open;
  if (host.identity !== null && host.identity !== undefined) state.identityToken = host.identity; // identify() may have come first
  if (host.prefill && typeof host.prefill === "object") state.lastPrechat = { ...host.prefill };
  return start(host);
});
