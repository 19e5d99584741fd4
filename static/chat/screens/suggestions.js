// Articles suggested for the customer's question before an agent is involved: "This solved
// my problem" ends the conversation as a deflection, "Chat with an agent" joins the queue.
import { el } from "../../common/dom.js";
import { widgetApi } from "../api.js";
import { widgetSocket } from "../socket.js";
import { forgetConversation, state } from "../state.js";
import { showQueue } from "./queue.js";
import { goBack, showAlert, showScreen } from "./screen.js";
import { unavailableNotice } from "./unavailable.js";
import { _, format, ngettext, pageLocale } from "../i18n.js";

export function showSuggestions(suggestions, summary = "") {
  const list = el("ul", { class: "suggestions" });
  for (const article of suggestions) {
    const bodyId = `article-${article.id}`;
    const body = el("div", { class: "article-body", id: bodyId, hidden: true });
    // body_html is the brand's own article, sanitized on the server (knowledge.selectors.article_html).
    body.innerHTML = article.body_html || "";
    const toggle = el("button", { type: "button", class: "link-button", "aria-expanded": "false", "aria-controls": bodyId, text: _("Read the article") });
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      toggle.textContent = open ? _("Hide the article") : _("Read the article");
      body.hidden = !open;
    });
    const solved = el("button", { type: "button", class: "button", text: _("This solved my problem"), "aria-describedby": `title-${article.id}` });
    solved.addEventListener("click", () => resolveWith(article, solved));
    list.append(el("li", { class: "suggestion" },
      el("h3", { id: `title-${article.id}`, text: article.title }),
      el("p", { class: "muted", text: article.summary }),
      toggle, body, el("div", { class: "actions" }, solved)));
  }
  const escalate = el("button", { type: "button", class: "button button-primary", text: _("Chat with an agent") });
  escalate.addEventListener("click", () => escalateChat(escalate));
  showScreen("suggestions",
    el("h1", { text: suggestions.length ? _("These articles might help") : _("Let's get you to an agent") }),
    summary ? el("p", { class: "recap muted" }, _("You asked: "), el("q", { id: "recap-summary", text: summary })) : null,
    el("p", { class: "alert", role: "alert", id: "suggest-alert", hidden: true }),
    suggestions.length ? list : el("p", { class: "muted", text: _("We found no articles for this question.") }),
    el("div", { class: "actions escalate" }, el("p", { text: suggestions.length ? _("Still need help?") : "" }), escalate));
}

async function resolveWith(article, button) {
  button.disabled = true;
  const result = await widgetApi("POST", `/conversations/${state.conversation.id}/resolve`, { article_id: article.id });
  button.disabled = false;
  if (!result.ok) return showAlert("#suggest-alert", result.data.detail);
  forgetConversation();
  showScreen("resolved", el("h1", { text: _("Glad that helped!") }),
    el("p", { role: "status", text: format(_("Thanks for letting us know that “%(title)s” solved your problem."), { title: article.title }) }),
    el("p", {}, el("a", { href: "/support/", target: "_top", text: _("Back to the help center") })));
}

async function escalateChat(button) {
  button.disabled = true;
  const result = await widgetApi("POST", `/conversations/${state.conversation.id}/escalate`);
  button.disabled = false;
  // Nobody can come (closed, queue full, no agent with the workspace open, too long a wait):
  // the message form, with the question already filled in.
  if (result.status === 409 && ["closed", "queue_full", "no_agents", "wait_too_long"].includes(result.data.code)) {
    if (state.config.offline_form) return goBack("offline", unavailableNotice(state.config, result.data.detail));
    return showAlert("#suggest-alert", result.data.detail);
  }
  if (!result.ok) return showAlert("#suggest-alert", result.data.detail);
  showQueue(result.data.position, result.data.eta_seconds);
  widgetSocket.start();
}
