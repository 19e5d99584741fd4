// The page's one screen at a time: each screen module fills #chat-app through showScreen(),
// which names the screen in data-screen and moves the focus to its heading so that a screen
// reader announces the change.
import { el } from "../../common/dom.js";
import { _, format, ngettext, pageLocale } from "../i18n.js";

export const app = document.getElementById("chat-app");

export function showScreen(name, ...children) {
  app.replaceChildren(...children);
  app.dataset.screen = name;
  const heading = app.querySelector("h1, h2");
  if (heading) {
    heading.setAttribute("tabindex", "-1");
    heading.focus({ preventScroll: false });
  }
}

export function alertBox(text, id) {
  return el("p", { class: "alert", role: "alert", id, text });
}

// Show a failure in the screen's own alert paragraph.
export function showAlert(selector, text) {
  const node = app.querySelector(selector);
  if (node) {
    node.textContent = text || _("Something went wrong. Please try again.");
    node.hidden = false;
    node.focus?.();
  }
}

// The customer's path loops back (the queue's "start again", the offline form offered from
// the suggestions), while each screen module imports the ones after it. Screens further
// back register here, and later ones go back by name, so no two modules import each other.
const screens = new Map();

export function registerScreen(name, show) {
  screens.set(name, show);
}

export function goBack(name, ...args) {
  const show = screens.get(name);
  if (show) show(...args);
}
