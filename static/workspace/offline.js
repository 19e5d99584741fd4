// Offline messages (left outside business hours or when the queue was full), across every
// brand the agent serves: read one, answer it by email, and it leaves everyone's list.
// Customer text is only ever set through textContent (el() in common/dom.js).
import { el, renderKeyed } from "../common/dom.js";
import { api, ApiError } from "./api.js";
import { brandBadge } from "./display.js";

const list = document.getElementById("offline");
const empty = document.getElementById("offline-empty");
const count = document.getElementById("offline-count");

// Kept by key through each re-read, so a reply being typed (or a Reply being pressed) is
// not wiped by the 30-second refresh.
function render(items) {
  renderKeyed(list, items, { keyOf: (m) => `${m.brand}:${m.id}`, render: renderItem });
  empty.hidden = items.length > 0;
  count.textContent = items.length ? `(${items.length})` : "";
}

function renderItem(m) {
  const label = `${m.customer.name} (${m.brand_name})`;
  const replyId = `offline-reply-${m.brand}-${m.id}`;
  const error = el("p", { class: "alert", role: "alert", hidden: true });
  const textarea = el("textarea", { id: replyId, rows: 3, maxlength: 4000, required: true });
  const form = el("form", { class: "offline-reply", hidden: true },
    el("label", { for: replyId, text: `Reply to ${m.customer.email}` }), textarea, error,
    el("button", { type: "submit", text: "Send reply by email" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    try {
      await api(`brands/${m.brand}/offline-messages/${m.id}/reply`, { method: "POST", body: { body: textarea.value } });
      item.remove();
      refresh();
    } catch (err) {
      error.textContent = err instanceof ApiError ? err.message : "Could not send the reply; try again.";
      error.hidden = false;
    }
  });
  const toggle = el("button", { type: "button", text: "Reply", "aria-expanded": "false", "aria-label": `Reply to ${label}` });
  toggle.addEventListener("click", () => {
    form.hidden = !form.hidden;
    toggle.setAttribute("aria-expanded", String(!form.hidden));
    if (!form.hidden) textarea.focus();
  });
  const item = el("li", { class: "queue-item offline-item", dataset: { brand: m.brand, message: String(m.id) } },
    el("div", { class: "queue-item__head" }, brandBadge(m.brand_name, m.brand_color), el("span", { class: "category", text: m.category }),
      el("span", { class: "wait", text: new Date(m.created_at).toLocaleString() })),
    el("strong", { text: m.customer.name }),
    el("p", { class: "summary", text: m.summary }),
    toggle, form);
  return item;
}

async function refresh() {
  try {
    render((await api("offline-messages")).offline_messages);
  } catch (err) {
    console.warn("offline messages", err);
  }
}

refresh();
setInterval(refresh, 30000);
