// The agent workspace: presence, offers, the queue across brands and the open chats.
// Customer text is only ever set through textContent (see el() in api.js).
import { api, ApiError, brandBadge, el, formatWait } from "./api.js";
import { AgentSocket } from "./socket.js";

const config = JSON.parse(document.getElementById("workspace-config").textContent);
const brands = Object.fromEntries(config.brands.map((b) => [b.slug, b]));
const key = (brand, id) => `${brand}:${id}`;

const $ = (id) => document.getElementById(id);
const presenceSelect = $("presence");
const connectionStatus = $("connection");
const offersList = $("offers");
const queueList = $("queue");
const tabsBar = $("chat-tabs");
const panels = $("chat-panels");

const offers = new Map(); // key -> {brand, conversation_id, customer_name, summary, expires_at}
const tabs = new Map(); // key -> Tab
const cannedCache = new Map(); // brand -> Promise<list>
let queue = { items: [], fetchedAt: Date.now() };
let activeKey = null;

// --- Socket ---------------------------------------------------------------------------

const socket = new AgentSocket({
  onopen() {
    // After every (re)connect: catch up on each open chat from the last seq we saw.
    for (const tab of tabs.values()) {
      if (!tab.closed) socket.send({ type: "subscribe", brand: tab.brand, conversation_id: tab.id, after_seq: tab.lastSeq });
    }
    refreshQueue();
    loadMine();
  },
  onframe: handleFrame,
  onstatus(status) {
    const labels = { connecting: "Connecting…", connected: "Connected", reconnecting: "Reconnecting…", unauthorized: "Signed out" };
    connectionStatus.textContent = labels[status] || status;
    connectionStatus.dataset.status = status;
    if (status === "unauthorized") location.href = "/agent/login/?next=/agent/";
  },
});
window.agentSocket = socket;

function handleFrame(frame) {
  const tab = frame.conversation_id != null && frame.brand ? tabs.get(key(frame.brand, frame.conversation_id)) : null;
  switch (frame.type) {
    case "offer":
      offers.set(key(frame.brand, frame.conversation_id), frame);
      renderOffers();
      refreshQueueSoon();
      break;
    case "offer.withdrawn":
      offers.delete(key(frame.brand, frame.conversation_id));
      renderOffers();
      refreshQueueSoon();
      break;
    case "queue.changed":
      refreshQueueSoon();
      break;
    case "presence":
      presenceSelect.value = frame.presence;
      break;
    case "conversation.assigned":
      offers.delete(key(frame.brand, frame.conversation_id));
      renderOffers();
      openTab(frame.brand, frame.conversation_id, { focus: !activeKey });
      break;
    case "conversation.unassigned":
      if (tab && !tab.closed) tab.setClosed("This chat is no longer yours (transferred or taken over).");
      break;
    case "message":
      if (tab) tab.addMessage(frame);
      break;
    case "typing":
      if (tab && frame.sender === "customer") tab.showTyping(frame.is_typing !== false);
      break;
    case "read":
      if (tab && frame.reader === "customer") tab.markSeen(frame.up_to_seq);
      break;
    case "agent.joined":
    case "agent.left":
      if (tab) tab.refreshDetail();
      break;
    case "conversation.ended":
      if (tab) tab.setEnded();
      break;
    case "error":
      console.warn("socket error", frame.code, frame.detail);
      break;
    default:
      break;
  }
}

// --- Presence -------------------------------------------------------------------------

async function loadMe() {
  const me = await api("me");
  presenceSelect.value = me.presence;
}

presenceSelect.addEventListener("change", async () => {
  try {
    const me = await api("presence", { method: "POST", body: { presence: presenceSelect.value } });
    presenceSelect.value = me.presence;
  } catch (error) {
    alert(error.message);
  }
});

// --- Offers and the queue --------------------------------------------------------------

function renderOffers() {
  offersList.replaceChildren();
  for (const offer of offers.values()) {
    const brand = brands[offer.brand] || { name: offer.brand_name || offer.brand };
    const countdown = el("span", { class: "countdown", dataset: { expires: offer.expires_at || "" } });
    const label = `${offer.customer_name || "Customer"} (${brand.name})`;
    offersList.append(
      el("li", { class: "offer", "aria-label": `Offer: ${label}` },
        el("div", {}, brandBadge(brand.name, brand.color), " ", el("strong", { text: offer.customer_name || "Customer" })),
        el("p", { class: "summary", text: offer.summary || "" }),
        el("div", { class: "actions" },
          el("button", { type: "button", class: "primary", text: "Accept", "aria-label": `Accept chat with ${label}`, onclick: () => accept(offer.brand, offer.conversation_id) }),
          el("button", { type: "button", text: "Decline", "aria-label": `Decline chat with ${label}`, onclick: () => decline(offer.brand, offer.conversation_id) }),
          countdown,
        ),
      ),
    );
  }
  $("offers-empty").hidden = offers.size > 0;
  tick();
}

async function accept(brand, conversationId) {
  // Show the chat taken, unless the agent has moved to another tab while the request
  // was on its way (the socket's conversation.assigned can open the tab first).
  const activationsBefore = activations;
  try {
    await api(`brands/${brand}/conversations/${conversationId}/accept`, { method: "POST" });
    offers.delete(key(brand, conversationId));
    renderOffers();
    openTab(brand, conversationId, { focus: activations === activationsBefore });
  } catch (error) {
    offers.delete(key(brand, conversationId));
    renderOffers();
    alert(error.message);
  }
  refreshQueueSoon();
}

async function decline(brand, conversationId) {
  offers.delete(key(brand, conversationId));
  renderOffers();
  try {
    await api(`brands/${brand}/conversations/${conversationId}/decline`, { method: "POST" });
  } catch (error) {
    if (!(error instanceof ApiError && error.status === 409)) alert(error.message);
  }
  refreshQueueSoon();
}

let queueTimer = null;
function refreshQueueSoon() {
  clearTimeout(queueTimer);
  queueTimer = setTimeout(refreshQueue, 150);
}

async function refreshQueue() {
  try {
    const data = await api("queue");
    queue = { items: data.queue, fetchedAt: Date.now() };
    // Offers made while the socket was away still show up here.
    for (const item of data.queue) {
      const k = key(item.brand, item.conversation_id);
      if (item.offered_to_me && !offers.has(k)) {
        offers.set(k, { ...item, expires_at: item.offer_expires_at });
      }
    }
    for (const [k] of offers) {
      if (!data.queue.some((i) => key(i.brand, i.conversation_id) === k && i.offered_to_me)) offers.delete(k);
    }
    renderOffers();
    renderQueue();
  } catch (error) {
    console.warn("queue", error);
  }
}

function renderQueue() {
  queueList.replaceChildren();
  for (const item of queue.items) {
    const label = `${item.customer_name || "Customer"} (${item.brand_name})`;
    const action = item.offered_to_me
      ? el("span", { class: "muted", text: "Offered to you" })
      : item.state === "offered"
        ? el("span", { class: "muted", text: "Being offered" })
        : el("button", { type: "button", text: "Pick", "aria-label": `Pick chat with ${label}`, onclick: () => accept(item.brand, item.conversation_id) });
    queueList.append(
      el("li", { class: "queue-item", dataset: { brand: item.brand, conversation: String(item.conversation_id) } },
        el("div", { class: "queue-item__head" },
          brandBadge(item.brand_name, item.brand_color),
          el("span", { class: "category", text: item.category_name || item.category }),
          el("span", { class: "wait", "aria-label": "Waiting for", dataset: { waited: String(item.waited_seconds) }, text: formatWait(item.waited_seconds) }),
        ),
        el("strong", { text: item.customer_name || "Customer" }),
        el("p", { class: "summary", text: item.summary || "" }),
        action,
      ),
    );
  }
  $("queue-count").textContent = queue.items.length ? `(${queue.items.length})` : "";
  $("queue-empty").hidden = queue.items.length > 0;
}

function tick() {
  const elapsed = (Date.now() - queue.fetchedAt) / 1000;
  for (const wait of queueList.querySelectorAll(".wait")) {
    wait.textContent = formatWait(Number(wait.dataset.waited) + elapsed);
  }
  for (const countdown of offersList.querySelectorAll(".countdown")) {
    const left = countdown.dataset.expires ? (Date.parse(countdown.dataset.expires) - Date.now()) / 1000 : null;
    countdown.textContent = left === null ? "" : left > 0 ? `${Math.ceil(left)}s left` : "Expiring…";
  }
}
setInterval(tick, 1000);
setInterval(refreshQueue, 15000);

// --- Chats ------------------------------------------------------------------------------

async function loadMine() {
  try {
    const data = await api("conversations");
    for (const c of data.conversations) openTab(c.brand, c.conversation_id, { focus: !activeKey });
  } catch (error) {
    console.warn("conversations", error);
  }
}

function openTab(brand, id, { focus = false } = {}) {
  const k = key(brand, id);
  let tab = tabs.get(k);
  if (!tab) {
    tab = new Tab(brand, id);
    tabs.set(k, tab);
    tab.load();
  } else if (tab.closed && tab.state !== "ended") {
    // Handed back to us (e.g. a supervisor gave it back): live again.
    tab.reopen();
  }
  if (focus) activate(k);
  $("chats-empty").hidden = tabs.size > 0;
  return tab;
}

let activations = 0; // how many times a tab was brought to the front

function activate(k) {
  activations += 1;
  activeKey = k;
  for (const [tk, tab] of tabs) {
    const on = tk === k;
    tab.tabButton.setAttribute("aria-selected", String(on));
    tab.tabButton.tabIndex = on ? 0 : -1;
    tab.panel.hidden = !on;
    if (on) {
      tab.unread = 0;
      tab.renderTabLabel();
      tab.sendRead();
    }
  }
}

tabsBar.addEventListener("keydown", (event) => {
  if (!["ArrowLeft", "ArrowRight"].includes(event.key)) return;
  const keys = [...tabs.keys()];
  const index = keys.indexOf(activeKey);
  const next = keys[(index + (event.key === "ArrowRight" ? 1 : keys.length - 1)) % keys.length];
  if (next) {
    activate(next);
    tabs.get(next).tabButton.focus();
  }
});

function cannedReplies(brand) {
  if (!cannedCache.has(brand)) {
    cannedCache.set(brand, api(`brands/${brand}/canned-replies`).then((d) => d.canned_replies).catch(() => []));
  }
  return cannedCache.get(brand);
}

function fillPlaceholders(text, values) {
  return text.replace(/\{(customer_name|agent_name)\}/g, (_, name) => values[name] || "");
}

class Tab {
  constructor(brand, id) {
    this.brand = brand;
    this.id = id;
    this.k = key(brand, id);
    this.lastSeq = 0;
    this.seqs = new Set();
    this.customerReadSeq = 0;
    this.sentReadSeq = 0;
    this.unread = 0;
    this.closed = false;
    this.state = "active";
    this.detail = null;
    this.typingTimer = null;
    this.lastTypingSent = 0;
    this.stopTypingTimer = null;
    this.build();
  }

  get prefix() {
    return `chat-${this.brand}-${this.id}`;
  }

  build() {
    const brand = brands[this.brand] || { name: this.brand };
    this.tabLabel = el("span", { text: `Chat ${this.id}` });
    this.tabButton = el("button", {
      type: "button", role: "tab", id: `${this.prefix}-tab`, "aria-controls": `${this.prefix}-panel`, "aria-selected": "false",
      class: "tab", dataset: { key: this.k }, onclick: () => activate(this.k),
    }, brandBadge(brand.name, brand.color), " ", this.tabLabel);
    tabsBar.append(this.tabButton);

    this.info = el("div", { class: "chat-info" });
    this.messages = el("ol", { class: "messages", "aria-label": "Conversation", "aria-live": "polite" });
    this.typing = el("p", { class: "typing", "aria-live": "polite" });
    this.status = el("p", { class: "chat-status", role: "status" });

    this.textarea = el("textarea", { id: `${this.prefix}-body`, rows: "3", class: "composer__body" });
    this.noteToggle = el("input", { type: "checkbox", id: `${this.prefix}-note`, class: "composer__note" });
    this.canned = el("select", { id: `${this.prefix}-canned`, class: "composer__canned" }, el("option", { value: "", text: "Canned reply…" }));
    this.sendButton = el("button", { type: "submit", class: "primary", text: "Send" });
    this.composer = el("form", { class: "composer", "aria-label": "Reply" },
      el("label", { for: this.textarea.id, class: "visually-hidden", text: "Message" }),
      this.textarea,
      el("div", { class: "composer__bar" },
        el("label", { class: "note-toggle" }, this.noteToggle, " Private note"),
        el("label", { for: this.canned.id, class: "visually-hidden", text: "Canned reply" }),
        this.canned,
        this.sendButton,
      ),
      el("p", { class: "alert composer__error", role: "alert", hidden: true }),
    );
    this.composerError = this.composer.querySelector(".composer__error");
    this.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.textarea.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        this.send();
      }
    });
    this.textarea.addEventListener("input", () => this.typed());
    this.noteToggle.addEventListener("change", () => {
      this.composer.classList.toggle("composer--note", this.noteToggle.checked);
      this.textarea.placeholder = this.noteToggle.checked ? "Private note (only agents see it)" : "";
    });
    this.canned.addEventListener("change", () => this.insertCanned());

    this.transferButton = el("button", { type: "button", text: "Transfer…", onclick: () => openTransfer(this) });
    this.endButton = el("button", { type: "button", class: "danger", text: "End chat", onclick: () => this.end() });
    this.closeButton = el("button", { type: "button", text: "Close tab", hidden: true, onclick: () => this.remove() });
    this.header = el("h2", { class: "chat-title" }, brandBadge(brand.name, brand.color), " ", el("span", { class: "chat-title__name", text: `Chat ${this.id}` }));

    this.panel = el("section", { role: "tabpanel", id: `${this.prefix}-panel`, "aria-labelledby": this.tabButton.id, class: "chat", hidden: true, dataset: { key: this.k } },
      el("div", { class: "chat-head" }, this.header, el("div", { class: "actions" }, this.transferButton, this.endButton, this.closeButton)),
      el("div", { class: "chat-body" },
        el("div", { class: "chat-main" }, this.messages, this.typing, this.status, this.composer),
        this.info,
      ),
    );
    panels.append(this.panel);
    cannedReplies(this.brand).then((list) => {
      this.cannedList = list;
      for (const [index, reply] of list.entries()) {
        this.canned.append(el("option", { value: String(index), text: `${reply.title} (/${reply.shortcut})` }));
      }
      this.canned.hidden = list.length === 0;
    });
  }

  async load() {
    await this.refreshDetail();
    try {
      const data = await api(`brands/${this.brand}/conversations/${this.id}/messages?after_seq=0`);
      for (const message of data.messages) this.addMessage(message);
    } catch (error) {
      this.status.textContent = error.message;
    }
    socket.send({ type: "subscribe", brand: this.brand, conversation_id: this.id, after_seq: this.lastSeq });
  }

  async refreshDetail() {
    try {
      this.detail = await api(`brands/${this.brand}/conversations/${this.id}`);
    } catch (error) {
      this.status.textContent = error.message;
      return;
    }
    const d = this.detail;
    this.tabLabel.textContent = d.customer.name || `Chat ${this.id}`;
    this.header.querySelector(".chat-title__name").textContent = `${d.customer.name || "Customer"} · ${d.category.name}`;
    this.customerReadSeq = Math.max(this.customerReadSeq, d.customer_read_seq || 0);
    this.renderInfo();
    this.renderSeen();
    if (d.state === "ended" || d.state === "abandoned") this.setEnded();
    else if (d.agent && d.agent.id !== config.agent.id && !this.closed) this.setClosed(`${d.agent.name} has this chat now.`);
    this.renderTabLabel();
  }

  renderInfo() {
    const d = this.detail;
    const dl = el("dl", { class: "details" });
    const row = (term, value) => {
      if (value === null || value === undefined || value === "") return;
      dl.append(el("dt", { text: term }), el("dd", { text: String(value) }));
    };
    row("Brand", d.brand_name);
    row("Name", d.customer.name);
    row("Email", d.customer.email);
    row("Customer ID", d.customer.customer_id ? `${d.customer.customer_id}${d.customer.verified ? " (verified)" : ""}` : "");
    row("Category", d.category.name);
    row("Summary", d.summary);
    row("Product ID", d.product_id);
    const labels = d.custom_field_labels || {};
    for (const [field, value] of Object.entries(d.custom_fields || {})) {
      const shown = typeof value === "boolean" ? (value ? "Yes" : "No") : typeof value === "object" ? JSON.stringify(value) : value;
      row(labels[field] || field, shown);
    }

    const articles = el("ul", { class: "articles" });
    for (const article of d.articles_shown || []) articles.append(el("li", { text: article.title }));
    const history = el("ul", { class: "history" });
    for (const c of d.history || []) {
      const when = new Date(c.created_at).toLocaleDateString();
      history.append(el("li", {}, el("span", { text: `${when} · ${c.category} · ${c.state}` }), el("br"), el("span", { text: c.summary || "" }), c.agent_name ? el("span", { class: "muted", text: ` (${c.agent_name})` }) : null));
    }
    this.info.replaceChildren(
      el("h3", { text: "Customer" }), dl,
      el("h3", { text: "Articles shown" }),
      (d.articles_shown || []).length ? articles : el("p", { class: "muted", text: "None" }),
      el("p", { class: "article-helped", text: d.article_helped ? "An article helped." : "No article helped." }),
      el("h3", { text: "Earlier conversations" }),
      (d.history || []).length ? history : el("p", { class: "muted", text: "None with this brand" }),
    );
  }

  addMessage(m) {
    if (m.seq == null || this.seqs.has(m.seq)) return;
    this.seqs.add(m.seq);
    this.lastSeq = Math.max(this.lastSeq, m.seq);
    const kind = m.internal ? "note" : m.sender;
    const item = el("li", { class: `message message--${kind}`, dataset: { seq: String(m.seq), sender: m.sender } });
    if (m.internal) item.append(el("span", { class: "message__label", text: "Private note" }));
    if (m.sender !== "system") {
      item.append(el("span", { class: "message__author", text: m.author || (m.sender === "customer" ? (this.detail?.customer.name || "Customer") : "Agent") }));
    }
    item.append(el("p", { class: "message__body", text: m.body }));
    const time = new Date(m.sent_at);
    item.append(el("time", { datetime: m.sent_at, text: isNaN(time) ? "" : time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }));
    if (m.sender === "agent" && !m.internal) item.append(el("span", { class: "receipt" }));
    // Keep seq order even when a resumed batch interleaves with live frames.
    const after = [...this.messages.children].find((li) => Number(li.dataset.seq) > m.seq);
    this.messages.insertBefore(item, after || null);
    if (m.sender === "customer") {
      this.showTyping(false);
      if (activeKey !== this.k || document.hidden) {
        this.unread += 1;
        this.renderTabLabel();
      }
    }
    this.renderSeen();
    this.messages.scrollTop = this.messages.scrollHeight;
    this.sendRead();
  }

  sendRead() {
    if (activeKey !== this.k || document.hidden || this.lastSeq <= this.sentReadSeq || this.closed) return;
    if (socket.send({ type: "read", brand: this.brand, conversation_id: this.id, up_to_seq: this.lastSeq })) {
      this.sentReadSeq = this.lastSeq;
    }
  }

  markSeen(upTo) {
    this.customerReadSeq = Math.max(this.customerReadSeq, upTo);
    this.renderSeen();
  }

  renderSeen() {
    for (const receipt of this.messages.querySelectorAll(".message--agent .receipt")) {
      const seq = Number(receipt.parentElement.dataset.seq);
      receipt.textContent = seq <= this.customerReadSeq ? "Seen" : "";
    }
  }

  renderTabLabel() {
    this.tabButton.classList.toggle("tab--unread", this.unread > 0);
    this.tabButton.classList.toggle("tab--ended", this.closed);
    this.tabButton.title = this.unread ? `${this.unread} unread` : "";
  }

  showTyping(on) {
    clearTimeout(this.typingTimer);
    const name = this.detail?.customer.name || "The customer";
    this.typing.textContent = on ? `${name} is typing…` : "";
    if (on) this.typingTimer = setTimeout(() => (this.typing.textContent = ""), 6000);
  }

  typed() {
    if (this.noteToggle.checked || this.closed) return;
    const now = Date.now();
    if (now - this.lastTypingSent > 2500) {
      this.lastTypingSent = now;
      socket.send({ type: "typing", brand: this.brand, conversation_id: this.id, is_typing: true });
    }
    clearTimeout(this.stopTypingTimer);
    this.stopTypingTimer = setTimeout(() => this.stopTyping(), 3000);
  }

  stopTyping() {
    clearTimeout(this.stopTypingTimer);
    if (this.lastTypingSent) {
      this.lastTypingSent = 0;
      socket.send({ type: "typing", brand: this.brand, conversation_id: this.id, is_typing: false });
    }
  }

  insertCanned() {
    const reply = this.cannedList?.[Number(this.canned.value)];
    this.canned.value = "";
    if (!reply) return;
    const text = fillPlaceholders(reply.body, { customer_name: this.detail?.customer.name || "", agent_name: config.agent.name });
    const { selectionStart: start, selectionEnd: end, value } = this.textarea;
    this.textarea.value = value.slice(0, start) + text + value.slice(end);
    this.textarea.focus();
  }

  async send() {
    const body = this.textarea.value.trim();
    if (!body || this.closed) return;
    const internal = this.noteToggle.checked;
    const clientMsgId = crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}`;
    this.sendButton.disabled = true;
    this.composerError.hidden = true;
    this.stopTyping();
    try {
      // Over HTTP so a failure is visible; the client_msg_id makes a retry safe.
      const message = await api(`brands/${this.brand}/conversations/${this.id}/messages`, {
        method: "POST", body: { body, client_msg_id: clientMsgId, internal },
      });
      this.addMessage(message);
      this.textarea.value = "";
    } catch (error) {
      this.composerError.textContent = error.message;
      this.composerError.hidden = false;
    } finally {
      this.sendButton.disabled = false;
      this.textarea.focus();
    }
  }

  async end() {
    if (!confirm("End this chat?")) return;
    try {
      await api(`brands/${this.brand}/conversations/${this.id}/end`, { method: "POST" });
      this.setEnded();
    } catch (error) {
      alert(error.message);
    }
  }

  setClosed(reason) {
    this.closed = true;
    this.status.textContent = reason;
    this.composer.hidden = true;
    this.transferButton.hidden = true;
    this.endButton.hidden = true;
    this.closeButton.hidden = false;
    this.renderTabLabel();
  }

  reopen() {
    this.closed = false;
    this.state = "active";
    this.status.textContent = "";
    this.composer.hidden = false;
    this.transferButton.hidden = false;
    this.endButton.hidden = false;
    this.closeButton.hidden = true;
    this.refreshDetail();
    socket.send({ type: "subscribe", brand: this.brand, conversation_id: this.id, after_seq: this.lastSeq });
  }

  setEnded() {
    this.state = "ended";
    this.setClosed("This chat has ended.");
  }

  remove() {
    tabs.delete(this.k);
    this.tabButton.remove();
    this.panel.remove();
    if (activeKey === this.k) {
      activeKey = null;
      const next = tabs.keys().next();
      if (!next.done) activate(next.value);
    }
    $("chats-empty").hidden = tabs.size > 0;
  }
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && activeKey) tabs.get(activeKey)?.sendRead();
});

// --- Transfer ----------------------------------------------------------------------------

const transferDialog = $("transfer-dialog");
const transferForm = $("transfer-form");
const transferAgent = $("transfer-agent");
const transferCategory = $("transfer-category");
const transferError = $("transfer-error");
let transferTab = null;

transferForm.addEventListener("change", (event) => {
  if (event.target.name !== "transfer_to") return;
  const toAgent = transferForm.elements.transfer_to.value === "agent";
  transferAgent.disabled = !toAgent;
  transferCategory.disabled = toAgent;
});
$("transfer-cancel").addEventListener("click", () => transferDialog.close());

async function openTransfer(tab) {
  transferTab = tab;
  transferError.hidden = true;
  transferForm.elements.transfer_to.value = "agent";
  transferAgent.disabled = false;
  transferCategory.disabled = true;
  $("transfer-note").value = "";
  transferAgent.replaceChildren();
  transferCategory.replaceChildren();
  for (const category of config.categories[tab.brand] || []) {
    transferCategory.append(el("option", { value: category.slug, text: category.name }));
  }
  transferDialog.showModal();
  try {
    const data = await api(`brands/${tab.brand}/agents`);
    for (const agent of data.agents.filter((a) => a.id !== config.agent.id)) {
      const load = `${agent.presence}, ${agent.active_chats}/${agent.capacity}`;
      transferAgent.append(el("option", { value: String(agent.id), text: `${agent.name} (${load})` }));
    }
    if (!transferAgent.options.length) transferAgent.append(el("option", { value: "", text: "No other agents on this brand" }));
  } catch (error) {
    transferError.textContent = error.message;
    transferError.hidden = false;
  }
}

transferForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const tab = transferTab;
  const body = { note: $("transfer-note").value };
  if (transferForm.elements.transfer_to.value === "agent") {
    if (!transferAgent.value) return;
    body.to_agent_id = Number(transferAgent.value);
  } else {
    body.category = transferCategory.value;
  }
  try {
    await api(`brands/${tab.brand}/conversations/${tab.id}/transfer`, { method: "POST", body });
    transferDialog.close();
    tab.setClosed("You transferred this chat.");
  } catch (error) {
    transferError.textContent = error.message;
    transferError.hidden = false;
  }
});

// --- Start --------------------------------------------------------------------------------

loadMe().catch((error) => console.warn("me", error));
refreshQueue();
