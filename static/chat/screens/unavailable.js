// The dead ends: chat cannot start at all, or this conversation can no longer be opened.
import { el } from "../../common/dom.js";
import { alertBox, showScreen } from "./screen.js";

export function showUnavailable(detail) {
  showScreen("error", el("h1", { text: "Chat is unavailable" }), alertBox(detail || "Please try again later."));
}

export function showExpired() {
  showScreen("expired", el("h1", { text: "This chat is no longer available" }), el("p", { role: "alert", text: "Start a new chat to reach us again." }), el("a", { href: location.pathname + location.search, class: "button", text: "Start a new chat" }));
}

// What the customer reads when no chat can be queued: why, and when someone will answer
// (the brand's next opening, in the customer's own time zone and language).
export function unavailableNotice(config, detail = "") {
  let text = detail || config.availability_detail || "Leave us a message and we will reply by email.";
  if (config.next_opening) {
    const when = new Date(config.next_opening).toLocaleString(document.documentElement.lang || undefined, { weekday: "long", hour: "2-digit", minute: "2-digit" });
    text += ` We open again ${when}.`;
  }
  return text;
}
