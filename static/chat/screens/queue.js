// Waiting for an agent: the customer's place in the queue and the estimated wait, updated
// live from queue.position frames, and the way out ("Leave the queue").
import { el } from "../../common/dom.js";
import { widgetApi } from "../api.js";
import { widgetSocket } from "../socket.js";
import { forgetConversation, state } from "../state.js";
import { chatRoot } from "./live-chat.js";
import { app, goBack, showAlert, showScreen } from "./screen.js";
import { _, format, ngettext, pageLocale } from "../i18n.js";

// Where the position is not known yet (the socket will tell).
export const POSITION_UNKNOWN = "…";

function minutes(seconds) {
  const n = Math.max(1, Math.round((Number(seconds) || 0) / 60));
  return format(ngettext("about %(n)s minute", "about %(n)s minutes", n), { n });
}

function queueStatus(position, etaSeconds) {
  if (position === POSITION_UNKNOWN) return [el("p", { text: _("Finding your place in the queue…") })];
  if (!position) {
    // Offered to an agent already: no longer counted among the waiting.
    return [el("p", { class: "queue-position", id: "queue-next", text: _("You're next: an agent is about to join.") })];
  }
  return [
    el("p", { class: "queue-position" }, _("Your place in the queue:"), " ", el("strong", { id: "queue-position", text: position })),
    el("p", { class: "queue-eta" }, _("Estimated wait:"), " ", el("strong", { id: "queue-eta", text: minutes(etaSeconds) })),
  ];
}

export function showQueue(position, etaSeconds) {
  const leave = el("button", { type: "button", class: "button", text: _("Leave the queue") });
  leave.addEventListener("click", () => leaveQueue(leave));
  showScreen("queue",
    el("h1", { text: _("Waiting for an agent") }),
    el("div", { class: "queue-status", id: "queue-status", role: "status", "aria-live": "polite" }, queueStatus(position, etaSeconds)),
    el("p", { class: "muted", text: _("Keep this page open; an agent will join you here. You can already write below: they will read it when they join.") }),
    el("p", { class: "alert", role: "alert", id: "queue-alert", hidden: true }),
    el("div", { class: "actions" }, leave),
    chatRoot({ queued: true }));
}

export function updateQueue(position, etaSeconds) {
  if (app.dataset.screen !== "queue") return showQueue(position, etaSeconds);
  app.querySelector("#queue-status").replaceChildren(...queueStatus(position, etaSeconds));
}

async function leaveQueue(button) {
  button.disabled = true;
  const result = await widgetApi("POST", `/conversations/${state.conversation.id}/leave`);
  button.disabled = false;
  // 409: no longer waiting in the queue (an agent took it, or it ended); leave the screen all the same.
  if (!result.ok && result.status !== 409) return showAlert("#queue-alert", result.data.detail);
  widgetSocket.stop();
  forgetConversation();
  showLeft();
}

export function showLeft() {
  const again = el("button", { type: "button", class: "button button-primary", text: _("Start a new chat") });
  again.addEventListener("click", () => goBack("prechat"));
  showScreen("left", el("h1", { text: _("You left the queue") }), el("p", { role: "status", text: _("No problem. You can start a new chat whenever you like.") }), el("div", { class: "actions" }, again));
}
