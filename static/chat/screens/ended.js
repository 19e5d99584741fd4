// After the chat: the transcript stays on screen with the CSAT survey (when an agent took
// part and it is not answered yet), "Email me the transcript" and "Start a new chat".
import { el } from "../../common/dom.js";
import { widgetApi } from "../api.js";
import { widgetSocket } from "../socket.js";
import { forgetConversation, saveConversation, state } from "../state.js";
import { chatNodes, setTyping, showChat } from "./live-chat.js";
import { _, format, ngettext, pageLocale } from "../i18n.js";

export function showEnded(frame) {
  if (state.ended) return;
  state.ended = true;
  widgetSocket.stop();
  showChat();
  chatNodes.title.textContent = state.agentName ? format(_("Your chat with %(name)s has ended"), { name: state.agentName }) : _("Chat ended");
  chatNodes.composer.hidden = true;
  chatNodes.endButton.hidden = true;
  setTyping(false);
  const area = chatNodes.endArea;
  area.hidden = false;
  area.replaceChildren(el("h2", { id: "ended-h", text: _("The chat has ended") }));
  if (frame.state === "ended" && !state.conversation.surveyDone && state.hadAgent !== false) area.append(surveyForm());
  const transcript = el("button", { type: "button", class: "button", text: _("Email me the transcript") });
  const transcriptStatus = el("p", { role: "status", class: "muted" });
  transcript.addEventListener("click", async () => {
    transcript.disabled = true;
    const result = await widgetApi("POST", `/conversations/${state.conversation.id}/transcript`);
    transcriptStatus.textContent = result.data.detail || (result.ok ? _("The transcript is on its way.") : _("We couldn't send the transcript."));
    if (!result.ok && result.data.code !== "already_requested") transcript.disabled = false;
  });
  const again = el("button", { type: "button", class: "button", text: _("Start a new chat") });
  again.addEventListener("click", () => {
    forgetConversation();
    location.reload();
  });
  area.append(el("div", { class: "actions" }, transcript, again), transcriptStatus);
  area.querySelector("h2").setAttribute("tabindex", "-1");
  area.querySelector("h2").focus();
}

// survey.requested may come after conversation.ended: add the survey if it is not there yet.
export function offerSurvey() {
  if (chatNodes && !chatNodes.endArea.querySelector("#survey") && !state.conversation.surveyDone) chatNodes.endArea.prepend(surveyForm());
}

function surveyForm() {
  const form = el("form", { class: "survey", id: "survey", "aria-labelledby": "survey-h" });
  const radios = el("div", { class: "rating" });
  for (let n = 1; n <= 5; n += 1) {
    radios.append(el("label", {}, el("input", { type: "radio", name: "rating", value: n, required: true }), ` ${n}`));
  }
  const status = el("p", { role: "status", id: "survey-status" });
  form.append(
    el("h3", { id: "survey-h", text: _("How did we do?") }),
    el("fieldset", {}, el("legend", { text: _("Rate your chat from 1 (poor) to 5 (excellent)") }), radios),
    el("label", { for: "survey-comment", text: _("Comment (optional)") }),
    el("textarea", { id: "survey-comment", name: "comment", rows: 3, maxlength: 2000 }),
    el("div", { class: "actions" }, el("button", { type: "submit", class: "button button-primary", text: _("Send feedback") })),
    status,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const rating = form.querySelector("input[name=rating]:checked");
    if (!rating) {
      status.textContent = _("Choose a rating from 1 to 5.");
      return;
    }
    const result = await widgetApi("POST", `/conversations/${state.conversation.id}/survey`, { rating: Number(rating.value), comment: form.querySelector("#survey-comment").value });
    if (result.ok || result.data.code === "already_answered") {
      state.conversation.surveyDone = true;
      saveConversation();
      form.replaceChildren(el("p", { role: "status", class: "notice", id: "survey-thanks", text: result.data.detail || _("Thank you for your feedback.") }));
    } else {
      status.textContent = result.data.detail || _("We couldn't save your answer.");
    }
  });
  return form;
}
