// The inbox (/agent/inbox/): conversations across the agent's brands (for supervisors, the
// brand's too), searched and filtered through GET /api/agent/v1/inbox, paged; one opens as
// a read-only transcript with its events, timings, survey answer, wrap-up and the
// customer's earlier conversations. The filters live in the address, so a reload or a
// shared link shows the same list. Customer text only ever goes in through el().
import { attachmentList } from "../common/attachments.js";
import { el } from "../common/dom.js";
import { api, apiHealth } from "./api.js";
import { brandBadge, formatWait } from "./display.js";
import "./health.js";

const config = JSON.parse(document.getElementById("inbox-config").textContent);
const brands = Object.fromEntries(config.brands.map((b) => [b.slug, b]));
const form = document.getElementById("inbox-filters");
const results = document.getElementById("inbox-results");
const status = document.getElementById("inbox-status");
const transcript = document.getElementById("transcript");
const pageLabel = document.getElementById("inbox-page");
const prev = document.getElementById("inbox-prev");
const next = document.getElementById("inbox-next");
const FIELDS = ["q", "brand", "scope", "agent", "state", "category", "tag", "disposition", "sla_breached", "date_from", "date_to"];
let page = 1;
let openKey = null;

const option = (value, text) => el("option", { value, text });

function fillSelect(id, items) {
  const select = document.getElementById(id);
  if (!select) return;
  const first = select.options[0];
  select.replaceChildren(first, ...items.map((item) => option(item.value, item.name)));
}

// Categories and tags are each brand's own: the chosen brand's, or every brand's by slug.
function brandOptions(kind) {
  const chosen = form.elements.brand.value;
  const seen = new Map();
  for (const b of config.brands) {
    if (chosen && b.slug !== chosen) continue;
    for (const item of (config[kind] || {})[b.slug] || []) if (!seen.has(item.slug)) seen.set(item.slug, item.name);
  }
  return [...seen].map(([value, name]) => ({ value, name }));
}

function fillFilters() {
  fillSelect("inbox-brand", config.brands.map((b) => ({ value: b.slug, name: b.name })));
  fillSelect("inbox-state", config.states);
  fillSelect("inbox-disposition", config.dispositions);
  fillSelect("inbox-agent", config.agents.map((a) => ({ value: String(a.id), name: a.name })));
  refillBrandOptions();
}

function refillBrandOptions() {
  const keep = { category: form.elements.category.value, tag: form.elements.tag.value };
  fillSelect("inbox-category", brandOptions("categories"));
  fillSelect("inbox-tag", brandOptions("tags"));
  form.elements.category.value = keep.category;
  form.elements.tag.value = keep.tag;
}

function filtersFromAddress() {
  const params = new URLSearchParams(location.search);
  for (const name of FIELDS) if (form.elements[name] && params.has(name)) form.elements[name].value = params.get(name);
  refillBrandOptions();
  for (const name of ["category", "tag"]) if (params.has(name)) form.elements[name].value = params.get(name);
  page = Math.max(1, Number(params.get("page")) || 1);
}

function query() {
  const params = new URLSearchParams();
  for (const name of FIELDS) {
    const field = form.elements[name];
    if (field && field.value) params.set(name, field.value);
  }
  if (page > 1) params.set("page", String(page));
  return params;
}

async function search() {
  const params = query();
  history.replaceState(null, "", `${location.pathname}${params.toString() ? `?${params}` : ""}`);
  status.textContent = "Searching…";
  try {
    const data = await api(`inbox?${params}`);
    render(data);
    status.textContent = data.conversations.length ? "" : "Nothing matches.";
  } catch (error) {
    // The list keeps what it showed, marked as not current (health.js dims it).
    status.textContent = error.status === 400 ? error.message : `Could not search: ${error.message}`;
  }
}

function render(data) {
  results.replaceChildren(...data.conversations.map((c) => {
    const key = `${c.brand}:${c.id}`;
    const brand = brands[c.brand] || { name: c.brand_name, color: c.brand_color };
    const tags = (c.wrap_up?.tags || []).map((t) => el("span", { class: "tag", text: t.name }));
    return el("li", { class: "inbox-row", dataset: { brand: c.brand, conversation: String(c.id) } },
      el("button", { type: "button", "aria-current": String(key === openKey), onclick: () => openTranscript(c.brand, c.id) },
        el("span", { class: "inbox-row__head" },
          brandBadge(brand.name, brand.color),
          el("strong", { class: "inbox-row__customer", text: c.customer_name }),
          c.verified ? el("span", { class: "muted", text: "verified" }) : null,
          c.sla_breached ? el("span", { class: "badge badge--breached sla-breached", text: "SLA breached" }) : null,
          el("span", { class: "muted", text: `${c.category} · ${c.state}` }),
          el("time", { class: "muted", datetime: c.created_at, text: new Date(c.created_at).toLocaleString() }),
        ),
        el("span", { class: "summary", text: c.summary }),
        el("span", { class: "inbox-row__head" }, c.agent_name ? el("span", { class: "muted", text: c.agent_name }) : null, c.wrap_up?.disposition_name ? el("span", { text: c.wrap_up.disposition_name }) : null, ...tags),
      ),
    );
  }));
  page = data.page;
  pageLabel.textContent = `Page ${data.page}`;
  prev.disabled = data.page <= 1;
  next.disabled = !data.has_next;
}

function dl(rows) {
  const list = el("dl", { class: "details" });
  for (const [term, value] of rows) {
    if (value === null || value === undefined || value === "") continue;
    list.append(el("dt", { text: term }), el("dd", { text: String(value) }));
  }
  return list;
}

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "");
const seconds = (s) => (s === null || s === undefined ? "" : formatWait(s));

async function openTranscript(brandSlug, id) {
  openKey = `${brandSlug}:${id}`;
  for (const button of results.querySelectorAll("button[aria-current]")) {
    const row = button.closest(".inbox-row");
    button.setAttribute("aria-current", String(`${row.dataset.brand}:${row.dataset.conversation}` === openKey));
  }
  transcript.replaceChildren(el("h2", { id: "transcript-title", text: "Transcript" }), el("p", { class: "muted", text: "Loading…" }));
  let d;
  try {
    d = await api(`brands/${brandSlug}/conversations/${id}/transcript`);
  } catch (error) {
    transcript.replaceChildren(el("h2", { id: "transcript-title", text: "Transcript" }), el("p", { class: "alert", text: error.message }));
    return;
  }
  const t = d.timings;
  const messages = el("ol", { class: "messages", "aria-label": "Messages" }, d.messages.map((m) => {
    const kind = m.internal ? "note" : m.sender;
    return el("li", { class: `message message--${kind}`, dataset: { seq: String(m.seq) } },
      m.internal ? el("span", { class: "message__label", text: "Private note" }) : null,
      m.sender !== "system" ? el("span", { class: "message__author", text: m.author || (m.sender === "customer" ? d.customer.name : "Agent") }) : null,
      el("p", { class: "message__body", text: m.body }),
      attachmentList(m.attachments, { imageLabel: "Image: %(name)s" }),
      el("time", { datetime: m.sent_at, text: new Date(m.sent_at).toLocaleTimeString() }),
    );
  }));
  const survey = d.survey
    ? d.survey.rating
      ? el("p", { class: "survey-answer", text: `Rated ${d.survey.rating} of 5${d.survey.comment ? `: “${d.survey.comment}”` : ""} (${d.survey.answered_via})` })
      : el("p", { class: "muted survey-answer", text: "Survey offered, not answered." })
    : el("p", { class: "muted survey-answer", text: "No survey." });
  const wrapUp = d.wrap_up
    ? el("p", { class: "wrap-up" }, d.wrap_up.disposition_name ? `${d.wrap_up.disposition_name}. ` : "", ...d.wrap_up.tags.map((tag) => el("span", { class: "tag", text: tag.name })))
    : el("p", { class: "muted wrap-up", text: "Not wrapped up." });
  const history = d.history.length
    ? el("ul", { class: "history" }, d.history.map((h) => el("li", {},
      el("button", { type: "button", class: "link", onclick: () => openTranscript(brandSlug, h.id) }, `${new Date(h.created_at).toLocaleDateString()} · ${h.category} · ${h.state}`),
      el("br"), el("span", { text: h.summary || "" }))))
    : el("p", { class: "muted", text: "None with this brand." });
  const contactBox = el("div", { class: "contact" });
  if (d.contact) {
    const c = d.contact;
    contactBox.append(
      el("p", { class: "contact__line" }, el("strong", { text: c.name }), ` · ${c.email}`, c.customer_id ? ` · ${c.customer_id}` : "",
        c.verified ? el("span", { class: "badge contact__verified", text: "Identity verified" }) : null,
        ` · ${c.conversation_count} conversation${c.conversation_count === 1 ? "" : "s"}`),
      el("button", { type: "button", text: "All their conversations", onclick: () => showContact(brandSlug, c.id, contactBox) }),
    );
  } else {
    contactBox.append(el("p", { class: "muted", text: "No contact record (a conversation from before contacts)." }));
  }
  const brand = brands[brandSlug] || { name: d.brand_name, color: d.brand_color };
  transcript.replaceChildren(
    el("h2", { id: "transcript-title" }, brandBadge(brand.name, brand.color), " ", `${d.customer.name} · ${d.category.name}`),
    el("p", { class: "muted", text: `Conversation ${d.id} · ${d.state} · read-only` }),
    dl([
      ["Email", d.customer.email],
      ["Customer ID", d.customer.customer_id ? `${d.customer.customer_id}${d.customer.verified ? " (verified)" : ""}` : ""],
      ["Summary", d.summary], ["Product ID", d.product_id], ["Agent", d.agent?.name],
    ]),
    el("h3", { text: "Contact" }), contactBox,
    el("h3", { text: "Timings" }),
    dl([
      ["Started", when(t.created_at)], ["Queued", when(t.queued_at)], ["Waited", seconds(t.wait_seconds)],
      ["Told to wait", seconds(t.quoted_wait_seconds)], ["First reply after", seconds(t.first_reply_seconds)],
      ["Ended", when(t.ended_at)], ["Ended by", t.ended_by], ["Lasted", seconds(t.duration_seconds)],
    ]),
    d.segments.length > 1 ? el("p", { class: "muted", text: `Held by ${d.segments.map((s) => s.agent_name).join(", then ")}` }) : null,
    el("h3", { text: "Survey" }), survey,
    el("h3", { text: "Wrap-up" }), wrapUp,
    el("h3", { text: "Transcript" }), messages,
    el("h3", { text: "Earlier conversations" }), history,
  );
  transcript.focus();
}

async function showContact(brandSlug, contactId, box) {
  try {
    const contact = await api(`brands/${brandSlug}/contacts/${contactId}`);
    box.querySelector("button")?.remove();
    box.append(el("ul", { class: "history contact__conversations" }, contact.conversations.map((c) => el("li", {},
      el("button", { type: "button", class: "link", onclick: () => openTranscript(brandSlug, c.id) }, `${new Date(c.created_at).toLocaleDateString()} · ${c.category} · ${c.state}`),
      el("br"), el("span", { text: c.summary })))));
  } catch (error) {
    box.append(el("p", { class: "alert", text: error.message }));
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  page = 1;
  search();
});
form.addEventListener("reset", () => setTimeout(() => {
  refillBrandOptions();
  page = 1;
  search();
}));
form.elements.brand.addEventListener("change", refillBrandOptions);
prev.addEventListener("click", () => {
  page = Math.max(1, page - 1);
  search();
});
next.addEventListener("click", () => {
  page += 1;
  search();
});
apiHealth.addEventListener("up", search);

fillFilters();
filtersFromAddress();
search();
