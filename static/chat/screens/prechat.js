// The pre-chat form, which is also the form for a message left while the brand is closed or
// its queue is full: who the customer is, the custom fields of the brand and the question.
// Fields the brand's signed identity vouches for are shown read-only.
import { el } from "../../common/dom.js";
import { widgetApi } from "../api.js";
import { conversationFrom, saveConversation, forgetConversation, state } from "../state.js";
import { registerScreen, showScreen } from "./screen.js";
import { showSuggestions } from "./suggestions.js";
import { _, format, ngettext, pageLocale } from "../i18n.js";

function fieldRow({ name, label, type = "text", required = false, value = "", locked = false, pattern, help, choices, autocomplete, multiline = false }) {
  const id = `f-${name.replace(/[^a-zA-Z0-9_-]/g, "_")}`;
  const errorId = `${id}-error`;
  const helpId = help ? `${id}-help` : null;
  const describedBy = [helpId, errorId].filter(Boolean).join(" ");
  let input;
  if (type === "select") {
    input = el("select", { id, name, required, "aria-describedby": describedBy, disabled: locked, "aria-readonly": locked ? "true" : null },
      el("option", { value: "", text: _("Choose…") }),
      (choices || []).map((choice) => {
        const [optionValue, optionLabel] = typeof choice === "object" ? [choice.slug, choice.name] : [choice, choice];
        return el("option", { value: optionValue, text: optionLabel, selected: String(value) === String(optionValue) });
      }));
  } else if (type === "checkbox") {
    input = el("input", { id, name, type: "checkbox", required, "aria-describedby": describedBy, disabled: locked, checked: value === true || value === "true" });
  } else if (multiline) {
    input = el("textarea", { id, name, rows: 3, required, maxlength: 2000, "aria-describedby": describedBy, readonly: locked });
    input.value = value || "";
  } else {
    input = el("input", { id, name, type, required, pattern: pattern || null, autocomplete, "aria-describedby": describedBy, readonly: locked });
    input.value = value ?? "";
  }
  const labelNode = el("label", { for: id }, label, required ? el("span", { class: "required", "aria-hidden": "true", text: " *" }) : null, locked ? el("span", { class: "muted", text: _(" (from your account)") }) : null);
  const row = el("div", { class: `field field-${type}` });
  if (type === "checkbox") row.append(el("div", { class: "check" }, input, labelNode));
  else row.append(labelNode, input);
  if (help) row.append(el("p", { class: "help muted", id: helpId, text: help }));
  row.append(el("p", { class: "field-error", id: errorId, hidden: true }));
  return row;
}

export function prechatForm({ offline = false, notice = "" } = {}) {
  const config = state.config;
  const identity = state.identity || {};
  const idFields = identity.fields || {};
  const previous = state.lastPrechat;
  const value = (key) => identity[key] || previous[key] || "";
  const form = el("form", { class: "prechat", novalidate: true, "aria-labelledby": "prechat-h" });
  form.append(
    el("h1", { id: "prechat-h", text: offline ? _("Leave us a message") : format(_("Chat with %(brand)s"), { brand: config.brand.name }) }),
    // Node.append() writes null as the text "null"; an empty string adds nothing visible.
    notice ? el("p", { class: "notice", role: "status", text: notice }) : "",
    el("p", { class: "muted", text: offline ? _("We'll reply by email.") : _("Tell us who you are and what you need; we'll suggest answers and connect you with an agent.") }),
    el("div", { class: "alert", role: "alert", id: "form-alert", hidden: true }),
  );
  // The brand says which fixed fields are asked and which are optional; an offline message
  // is answered by email, so it always asks for one.
  const asks = { name: "required", email: "required", customer_id: "optional", product_id: "optional", category: "required", ...(config.prechat_fields || {}) };
  if (offline) asks.email = "required";
  const ask = (key, row) => (asks[key] === "hidden" ? null : fieldRow({ ...row, name: key, required: asks[key] === "required" }));
  const you = el("fieldset", {}, el("legend", { text: _("About you") }));
  you.append(...[
    ask("name", { label: _("Name"), value: value("name"), locked: Boolean(identity.name), autocomplete: "name" }),
    ask("email", { label: _("Email"), type: "email", value: value("email"), locked: Boolean(identity.email), autocomplete: "email", help: asks.email === "optional" ? _("Optional: for the transcript and our reply if we get cut off.") : null }),
    ask("customer_id", { label: _("Customer ID"), value: value("customer_id"), locked: Boolean(identity.customer_id), help: asks.customer_id === "optional" ? _("Optional: from your account or order confirmation.") : null }),
  ].filter(Boolean));
  for (const field of config.custom_fields) {
    const locked = Object.prototype.hasOwnProperty.call(idFields, field.key);
    const fieldValue = locked ? idFields[field.key] : (previous.custom_fields || {})[field.key] ?? "";
    you.append(fieldRow({ name: `custom_fields.${field.key}`, label: field.label, type: field.type, required: field.required, value: fieldValue, locked, pattern: field.pattern, help: field.help_text, choices: field.choices }));
  }
  const problem = el("fieldset", {}, el("legend", { text: _("Your question") }));
  problem.append(...[
    ask("category", { label: _("Topic"), type: "select", value: previous.category || "", choices: config.categories }),
    fieldRow({ name: "summary", label: _("What do you need help with?"), required: true, value: previous.summary || "", multiline: true }),
    ask("product_id", { label: _("Product ID"), value: previous.product_id || "", help: asks.product_id === "optional" ? _("Optional: the product or order this is about.") : null }),
  ].filter(Boolean));
  const submit = el("button", { type: "submit", class: "button button-primary", text: offline ? _("Send message") : _("Start chat") });
  // A fieldset with only its legend (every field about the customer hidden) is left out.
  form.append(...[you.children.length > 1 ? you : null, problem, el("div", { class: "actions" }, submit)].filter(Boolean));
  form.dataset.clientKey = clientKey();
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submitPrechat(form, submit, offline);
  });
  return form;
}

// 32 random characters naming this form's "Start chat" (the server's Idempotency-Key).
function clientKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function prechatData(form) {
  const data = { custom_fields: {} };
  for (const input of form.querySelectorAll("input, select, textarea")) {
    if (!input.name) continue;
    const fieldValue = input.type === "checkbox" ? input.checked : input.value;
    if (input.name.startsWith("custom_fields.")) data.custom_fields[input.name.slice(14)] = fieldValue;
    else data[input.name] = fieldValue;
  }
  if (state.identity && state.identityToken) data.identity = state.identityToken;
  // For the emails sent later (transcript, survey): times in the customer's own zone.
  data.time_zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  return data;
}

function showFieldErrors(form, errors) {
  for (const node of form.querySelectorAll(".field-error")) {
    node.hidden = true;
    node.textContent = "";
  }
  for (const input of form.querySelectorAll("[aria-invalid]")) input.removeAttribute("aria-invalid");
  let first = null;
  for (const [key, message] of Object.entries(errors || {})) {
    const input = form.querySelector(`[name="${CSS.escape(key)}"]`);
    if (!input) continue;
    const errorNode = document.getElementById(`${input.id}-error`);
    errorNode.textContent = message;
    errorNode.hidden = false;
    input.setAttribute("aria-invalid", "true");
    first = first || input;
  }
  return first;
}

async function submitPrechat(form, button, offline) {
  const data = prechatData(form);
  state.lastPrechat = data;
  const alert = form.querySelector("#form-alert");
  alert.hidden = true;
  button.disabled = true;
  // One form, one conversation: a second click or a retried request sends the same key.
  const headers = offline ? {} : { "Idempotency-Key": form.dataset.clientKey };
  const result = await widgetApi("POST", offline ? "/offline-messages" : "/conversations", data, { auth: false, headers });
  button.disabled = false;
  if (!result.ok) {
    const first = showFieldErrors(form, result.data.errors);
    alert.textContent = result.data.errors ? _("Please correct the highlighted fields.") : result.data.detail || _("Something went wrong. Please try again.");
    alert.hidden = false;
    (first || alert).focus();
    return;
  }
  if (offline) {
    showScreen("offline-sent", el("h1", { text: _("Message sent") }), el("p", { role: "status", text: result.data.detail || _("Thanks, we got your message and will reply by email.") }));
    return;
  }
  state.conversation = conversationFrom({ id: result.data.id, token: result.data.token });
  saveConversation();
  showSuggestions(result.data.suggestions || [], result.data.summary);
}

export function showPrechat() {
  showScreen("form", prechatForm());
}

// The brand cannot take the chat now (closed, or the queue is full): leave a message instead.
export function showOffline(notice) {
  forgetConversation();
  showScreen("offline", prechatForm({ offline: true, notice }));
}

registerScreen("prechat", showPrechat);
registerScreen("offline", showOffline);
