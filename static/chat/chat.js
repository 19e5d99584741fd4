// The hosted chat page (/chat/, also inside the widget's iframe): resumes the conversation
// kept in sessionStorage, or starts with the pre-chat form. The screens are in screens/,
// the socket's frames in frames.js.
// Everything a customer or an agent typed is put in the page with textContent only.
import { el } from "../common/dom.js";
import { widgetApi } from "./api.js";
import { listenToWidgetSocket } from "./frames.js";
import { widgetSocket } from "./socket.js";
import { forgetConversation, identityToken, loadConversation, state } from "./state.js";
import { showEnded } from "./screens/ended.js";
import { fillGap, markRead, showChat } from "./screens/live-chat.js";
import { showOffline, showPrechat } from "./screens/prechat.js";
import { showQueue } from "./screens/queue.js";
import { app } from "./screens/screen.js";
import { showSuggestions } from "./screens/suggestions.js";
import { showUnavailable } from "./screens/unavailable.js";

// Back to where the stored conversation is; false when it is gone or over.
async function resume(stored) {
  state.conversation = stored;
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

async function start() {
  let identityError = "";
  let result = await widgetApi("GET", `/config${identityToken ? `?identity=${encodeURIComponent(identityToken)}` : ""}`, undefined, { auth: false });
  if (!result.ok && identityToken) {
    // A bad identity token must not keep the customer out: they fill in the form instead.
    identityError = result.data.detail || "We couldn't confirm who you are.";
    result = await widgetApi("GET", "/config", undefined, { auth: false });
  }
  if (!result.ok) {
    showUnavailable(result.data.detail);
    return;
  }
  state.config = result.data;
  state.identity = result.data.identity;
  document.documentElement.style.setProperty("--brand", state.config.brand.color);
  const stored = loadConversation();
  if (stored && (await resume(stored))) return;
  const availability = state.config.availability;
  if (availability !== "open") {
    const why = availability === "closed" ? "We're closed right now." : "All our agents are busy and the queue is full.";
    showOffline(`${why} Leave us a message and we'll get back to you by email.`);
  } else {
    showPrechat();
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

listenToWidgetSocket();
start();
