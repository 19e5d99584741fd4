// The dead ends: chat cannot start at all, or this conversation can no longer be opened.
import { el } from "../../common/dom.js";
import { alertBox, showScreen } from "./screen.js";
import { _, format, ngettext, pageLocale } from "../i18n.js";

export function showUnavailable(detail) {
  showScreen("error", el("h1", { text: _("Chat is unavailable") }), alertBox(detail || _("Please try again later.")));
}

export function showExpired() {
  showScreen("expired", el("h1", { text: _("This chat is no longer available") }), el("p", { role: "alert", text: _("Start a new chat to reach us again.") }), el("a", { href: location.pathname + location.search, class: "button", text: _("Start a new chat") }));
}

// What the customer reads when no chat can be queued: why, and when someone will answer
// (the brand's next opening, in the customer's own time zone and language).
export function unavailableNotice(config, detail = "") {
  let text = detail || config.availability_detail || _("Leave us a message and we will reply by email.");
  if (config.next_opening) {
    const when = new Date(config.next_opening).toLocaleString(pageLocale, { weekday: "long", hour: "2-digit", minute: "2-digit" });
    text += " " + format(_("We open again %(when)s."), { when });
  }
  return text;
}
