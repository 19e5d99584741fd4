// The dead ends: chat cannot start at all, or this conversation can no longer be opened.
import { el } from "../../common/dom.js";
import { alertBox, showScreen } from "./screen.js";

export function showUnavailable(detail) {
  showScreen("error", el("h1", { text: "Chat is unavailable" }), alertBox(detail || "Please try again later."));
}

export function showExpired() {
  showScreen("expired", el("h1", { text: "This chat is no longer available" }), el("p", { role: "alert", text: "Start a new chat to reach us again." }), el("a", { href: "/chat/", class: "button", text: "Start a new chat" }));
}
