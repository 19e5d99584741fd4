// One open chat in the workspace: its tab, the transcript in seq order (private notes
// marked), the customer's details and history, typing and "Seen" markers, the composer
// with private notes and canned replies, and the end / transfer / close buttons.
// A reply is sent over HTTP so a failure shows at once; its client_msg_id makes a retry safe.
// Customer text is only ever set through textContent (el() in common/dom.js).
// Files are uploaded to the agent API first and named by the reply's attachment_ids.
import { acceptDroppedFiles, attachmentList, AttachmentTray, uploadFile } from "../../common/attachments.js";
import { el } from "../../common/dom.js";
import { notify, pageInFront, refreshAlerts } from "../alerts.js";
import { api } from "../api.js";
import { openWrapUp } from "./wrapup.js";
import { brandBadge } from "../display.js";
import { brands, chatKey, config, socket, view } from "../state.js";

// brand -> Promise of its canned replies, read once per page.
const cannedCache = new Map();

function cannedReplies(brand) {
  if (!cannedCache.has(brand)) {
    cannedCache.set(brand, api(`brands/${brand}/canned-replies`).then((d) => d.canned_replies).catch(() => []));
  }
  return cannedCache.get(brand);
}

const firstName = (name) => (name || "").trim().split(/\s+/)[0] || "";

// A canned reply's variables: {first_name}, {agent_first_name} and {brand}, and the older
// {customer_name} and {agent_name} (full names), which saved replies still use.
export function fillPlaceholders(text, { customerName, agentName, brandName }) {
  const values = {
    first_name: firstName(customerName), customer_name: customerName || "",
    agent_first_name: firstName(agentName), agent_name: agentName || "", brand: brandName || "",
  };
  return text.replace(/\{(first_name|customer_name|agent_first_name|agent_name|brand)\}/g, (_, name) => values[name]);
}

// The "/word" just before the caret, if the agent is typing a shortcut.
function slashWord(textarea) {
  const before = textarea.value.slice(0, textarea.selectionStart);
  const match = /(^|\s)\/([\w-]*)$/.exec(before);
  return match ? { query: match[2].toLowerCase(), start: before.length - match[2].length - 1 } : null;
}

const MENU_SIZE = 8;

export class ChatTab {
  // onSelect(key), onClose(tab), onTransfer(tab): what the tab list does when the agent asks.
  constructor(brand, id, { onSelect, onClose, onTransfer }) {
    this.brand = brand;
    this.id = id;
    this.k = chatKey(brand, id);
    this.onSelect = onSelect;
    this.onClose = onClose;
    this.onTransfer = onTransfer;
    this.lastSeq = 0;
    this.seqs = new Set();
    this.customerReadSeq = 0;
    this.sentReadSeq = 0;
    this.unread = 0;
    this.agentReadSeq = 0; // what this agent had read before the page loaded: older is not unread
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
    this.tabCount = el("span", { class: "tab__count", hidden: true });
    this.tabButton = el("button", {
      type: "button", role: "tab", id: `${this.prefix}-tab`, "aria-controls": `${this.prefix}-panel`, "aria-selected": "false",
      class: "tab", dataset: { key: this.k }, onclick: () => this.onSelect(this.k),
    }, brandBadge(brand.name, brand.color), " ", this.tabLabel, this.tabCount);

    this.info = el("div", { class: "chat-info" });
    this.messages = el("ol", { class: "messages", "aria-label": "Conversation", "aria-live": "polite" });
    this.typing = el("p", { class: "typing", "aria-live": "polite" });
    this.status = el("p", { class: "chat-status", role: "status" });

    this.slashMenu = el("ul", { id: `${this.prefix}-slash`, role: "listbox", class: "slash-menu", "aria-label": "Canned replies", hidden: true });
    this.slashItems = [];
    this.slashIndex = 0;
    this.textarea = el("textarea", {
      id: `${this.prefix}-body`, rows: "3", class: "composer__body", placeholder: "Type / for canned replies",
      role: "combobox", "aria-autocomplete": "list", "aria-controls": this.slashMenu.id, "aria-expanded": "false",
    });
    this.noteToggle = el("input", { type: "checkbox", id: `${this.prefix}-note`, class: "composer__note" });
    this.canned = el("select", { id: `${this.prefix}-canned`, class: "composer__canned" }, el("option", { value: "", text: "Canned reply…" }));
    this.sendButton = el("button", { type: "submit", class: "primary", text: "Send" });
    this.fileInput = el("input", { type: "file", id: `${this.prefix}-file`, multiple: true, hidden: true });
    this.attachButton = el("button", { type: "button", class: "composer__attach", text: "Attach…", onclick: () => this.fileInput.click() });
    this.tray = new AttachmentTray({
      upload: (file, onProgress) => uploadFile({
        url: `/api/agent/v1/brands/${this.brand}/conversations/${this.id}/attachments`, file, onProgress, withCredentials: true,
        headers: { "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content },
      }),
      text: {
        tray: "Files to send", uploading: "Uploading… %(percent)s", ready: "Ready", remove: "Remove %(name)s",
        failed: "The file could not be uploaded.", network: "The server cannot be reached; the file was not uploaded.",
      },
    });
    this.fileInput.addEventListener("change", () => {
      this.tray.add([...this.fileInput.files]);
      this.fileInput.value = "";
    });
    this.composer = el("form", { class: "composer", "aria-label": "Reply" },
      el("label", { for: this.textarea.id, class: "visually-hidden", text: "Message" }),
      this.slashMenu,
      this.tray.node,
      this.textarea,
      el("div", { class: "composer__bar" },
        el("label", { class: "note-toggle" }, this.noteToggle, " Private note"),
        el("label", { for: this.canned.id, class: "visually-hidden", text: "Canned reply" }),
        this.canned,
        this.attachButton,
        this.fileInput,
        this.sendButton,
      ),
      el("p", { class: "alert composer__error", role: "alert", hidden: true }),
    );
    this.composerError = this.composer.querySelector(".composer__error");
    this.composer.addEventListener("submit", (event) => {
      event.preventDefault();
      this.send();
    });
    this.textarea.addEventListener("keydown", (event) => this.composerKey(event));
    this.textarea.addEventListener("input", () => {
      this.typed();
      this.updateSlashMenu();
    });
    this.textarea.addEventListener("blur", () => setTimeout(() => this.closeSlashMenu(), 150));
    this.noteToggle.addEventListener("change", () => {
      this.composer.classList.toggle("composer--note", this.noteToggle.checked);
      this.textarea.placeholder = this.noteToggle.checked ? "Private note (only agents see it)" : "Type / for canned replies";
    });
    this.canned.addEventListener("change", () => this.insertCanned());
    acceptDroppedFiles({ zone: this.composer, input: this.textarea, tray: this.tray, enabled: () => !this.closed });

    this.transferButton = el("button", { type: "button", text: "Transfer…", onclick: () => this.onTransfer(this) });
    this.endButton = el("button", { type: "button", class: "danger", text: "End chat", onclick: () => this.end() });
    this.wrapUpButton = el("button", { type: "button", class: "primary", text: "Wrap up…", hidden: true, onclick: () => openWrapUp(this, { ending: false }) });
    this.closeButton = el("button", { type: "button", text: "Close tab", hidden: true, onclick: () => this.onClose(this) });
    this.header = el("h2", { class: "chat-title" }, brandBadge(brand.name, brand.color), " ", el("span", { class: "chat-title__name", text: `Chat ${this.id}` }));

    this.panel = el("section", { role: "tabpanel", id: `${this.prefix}-panel`, "aria-labelledby": this.tabButton.id, class: "chat", hidden: true, dataset: { key: this.k } },
      el("div", { class: "chat-head" }, this.header, el("div", { class: "actions" }, this.transferButton, this.endButton, this.wrapUpButton, this.closeButton)),
      el("div", { class: "chat-body" },
        el("div", { class: "chat-main" }, this.messages, this.typing, this.status, this.composer),
        this.info,
      ),
    );
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

  async fillGap(afterSeq) {
    try {
      const data = await api(`brands/${this.brand}/conversations/${this.id}/messages?after_seq=${afterSeq}`);
      for (const message of data.messages) this.addMessage(message);
    } catch (error) {
      this.status.textContent = error.message;
    }
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
    this.agentReadSeq = Math.max(this.agentReadSeq, d.agent_read_seq || 0);
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

  // live: the message arrived on the socket just now (not the transcript read on opening).
  addMessage(m, { live = false } = {}) {
    if (m.seq == null || this.seqs.has(m.seq)) return;
    const gapAfter = live && m.seq > this.lastSeq + 1 ? this.lastSeq : null;
    this.seqs.add(m.seq);
    this.lastSeq = Math.max(this.lastSeq, m.seq);
    // The channel layer may miss an event (a process killed between its commit and its
    // publish); PostgreSQL has every message, so a jump in seqs is read back from it.
    if (gapAfter !== null) this.fillGap(gapAfter);
    const kind = m.internal ? "note" : m.sender;
    const item = el("li", { class: `message message--${kind}`, dataset: { seq: String(m.seq), sender: m.sender } });
    if (m.internal) item.append(el("span", { class: "message__label", text: "Private note" }));
    if (m.sender !== "system") {
      item.append(el("span", { class: "message__author", text: m.author || (m.sender === "customer" ? (this.detail?.customer.name || "Customer") : "Agent") }));
    }
    if (m.body) item.append(el("p", { class: "message__body", text: m.body }));
    const files = attachmentList(m.attachments, { imageLabel: "Image: %(name)s" });
    if (files) item.append(files);
    const time = new Date(m.sent_at);
    item.append(el("time", { datetime: m.sent_at, text: isNaN(time) ? "" : time.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) }));
    if (m.sender === "agent" && !m.internal) item.append(el("span", { class: "receipt" }));
    // Keep seq order even when a resumed batch interleaves with live frames.
    const after = [...this.messages.children].find((li) => Number(li.dataset.seq) > m.seq);
    this.messages.insertBefore(item, after || null);
    if (m.sender === "customer") {
      this.showTyping(false);
      const looking = view.activeKey === this.k && pageInFront();
      // Message 1 is the customer's question, which the offer and the summary already showed.
      const known = m.seq <= this.agentReadSeq || m.seq === 1;
      if (!looking && !known) {
        this.unread += 1;
        this.renderTabLabel();
        if (live) {
          const brand = brands[this.brand] || { name: this.brand };
          notify({
            title: `${this.detail?.customer.name || "Customer"} (${brand.name})`, body: m.body, tag: `message-${this.k}`,
            onClick: () => this.onSelect(this.k),
          });
        }
      }
    }
    this.renderSeen();
    this.messages.scrollTop = this.messages.scrollHeight;
    this.sendRead();
  }

  sendRead() {
    if (view.activeKey !== this.k || document.hidden || this.lastSeq <= this.sentReadSeq || this.closed) return;
    if (socket.send({ type: "read", brand: this.brand, conversation_id: this.id, up_to_seq: this.lastSeq })) {
      this.sentReadSeq = this.lastSeq;
      this.agentReadSeq = this.lastSeq;
    }
  }

  // The agent is looking at this chat now.
  markRead() {
    this.unread = 0;
    this.renderTabLabel();
    this.sendRead();
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
    this.tabCount.textContent = this.unread ? String(this.unread) : "";
    this.tabCount.hidden = !this.unread;
    this.tabCount.setAttribute("aria-label", `${this.unread} unread`);
    refreshAlerts();
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

  cannedText(reply) {
    const brand = brands[this.brand] || { name: this.brand };
    return fillPlaceholders(reply.body, { customerName: this.detail?.customer.name || "", agentName: config.agent.name, brandName: brand.name });
  }

  insertCanned() {
    const reply = this.cannedList?.[Number(this.canned.value)];
    this.canned.value = "";
    if (!reply) return;
    const { selectionStart: start, selectionEnd: end } = this.textarea;
    this.insertText(this.cannedText(reply), start, end);
  }

  insertText(text, start, end) {
    const { value } = this.textarea;
    this.textarea.value = value.slice(0, start) + text + value.slice(end);
    this.textarea.focus();
    this.textarea.setSelectionRange(start + text.length, start + text.length);
  }

  // --- Slash shortcuts: "/ret" lists the canned replies whose shortcut or title match.
  updateSlashMenu() {
    const word = slashWord(this.textarea);
    const list = this.cannedList || [];
    if (!word || !list.length || this.closed) return this.closeSlashMenu();
    const matches = list.filter((r) => r.shortcut.toLowerCase().startsWith(word.query) || r.title.toLowerCase().includes(word.query));
    this.slashItems = matches.slice(0, MENU_SIZE);
    this.slashWordAt = word;
    if (!this.slashItems.length) {
      this.slashMenu.replaceChildren(el("li", { class: "slash-menu__none muted", text: `No canned reply matches /${word.query}` }));
    } else {
      this.slashIndex = Math.min(this.slashIndex, this.slashItems.length - 1);
      this.slashMenu.replaceChildren(...this.slashItems.map((reply, index) => el("li", {
        id: `${this.prefix}-slash-${index}`, role: "option", class: "slash-menu__item", "aria-selected": String(index === this.slashIndex),
        onmousedown: (event) => {
          event.preventDefault(); // keep the focus in the composer
          this.slashIndex = index;
          this.chooseSlash();
        },
      }, el("strong", { text: `/${reply.shortcut}` }), " ", el("span", { text: reply.title }), el("span", { class: "slash-menu__preview muted", text: this.cannedText(reply) }))));
    }
    this.slashMenu.hidden = false;
    this.textarea.setAttribute("aria-expanded", "true");
    this.highlightSlash();
  }

  highlightSlash() {
    [...this.slashMenu.querySelectorAll('[role="option"]')].forEach((item, index) => item.setAttribute("aria-selected", String(index === this.slashIndex)));
    if (this.slashItems.length) this.textarea.setAttribute("aria-activedescendant", `${this.prefix}-slash-${this.slashIndex}`);
    else this.textarea.removeAttribute("aria-activedescendant");
  }

  closeSlashMenu() {
    this.slashMenu.hidden = true;
    this.slashItems = [];
    this.slashIndex = 0;
    this.textarea.setAttribute("aria-expanded", "false");
    this.textarea.removeAttribute("aria-activedescendant");
  }

  chooseSlash() {
    const reply = this.slashItems[this.slashIndex];
    const word = this.slashWordAt;
    this.closeSlashMenu();
    if (reply && word) this.insertText(this.cannedText(reply), word.start, this.textarea.selectionStart);
  }

  composerKey(event) {
    const menuOpen = !this.slashMenu.hidden;
    if (menuOpen && this.slashItems.length && (event.key === "ArrowDown" || event.key === "ArrowUp")) {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : this.slashItems.length - 1;
      this.slashIndex = (this.slashIndex + step) % this.slashItems.length;
      this.highlightSlash();
    } else if (menuOpen && this.slashItems.length && (event.key === "Enter" || event.key === "Tab") && !event.shiftKey) {
      event.preventDefault();
      this.chooseSlash();
    } else if (menuOpen && event.key === "Escape") {
      event.preventDefault();
      event.stopPropagation();
      this.closeSlashMenu();
    } else if (event.altKey && event.code === "KeyN") {
      event.preventDefault();
      this.noteToggle.checked = !this.noteToggle.checked;
      this.noteToggle.dispatchEvent(new Event("change"));
    } else if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      this.send();
    }
  }

  async send() {
    const body = this.textarea.value.trim();
    if (this.closed) return;
    if (this.tray.busy) {
      this.composerError.textContent = "Wait until the files have uploaded, then send.";
      this.composerError.hidden = false;
      return;
    }
    const attachmentIds = this.tray.ready().map((item) => item.id);
    if (!body && !attachmentIds.length) return;
    const internal = this.noteToggle.checked;
    // The same unsent reply keeps its client_msg_id until the server answers 2xx: a send
    // that failed (a 502 from a process that died) may still have been stored, and
    // sending it again under a new id would store it twice.
    const draft = JSON.stringify([body, internal, attachmentIds]);
    if (this.unsent?.draft !== draft) {
      this.unsent = { draft, clientMsgId: crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random()}` };
    }
    const { clientMsgId } = this.unsent;
    this.sendButton.disabled = true;
    this.composerError.hidden = true;
    this.stopTyping();
    try {
      // Over HTTP so a failure is visible; the client_msg_id makes a retry safe.
      const message = await api(`brands/${this.brand}/conversations/${this.id}/messages`, {
        method: "POST", body: { body, client_msg_id: clientMsgId, internal, attachment_ids: attachmentIds },
      });
      this.unsent = null;
      this.addMessage(message);
      this.textarea.value = "";
      this.tray.clear();
    } catch (error) {
      this.composerError.textContent = error.message;
      this.composerError.hidden = false;
    } finally {
      this.sendButton.disabled = false;
      this.textarea.focus();
    }
  }

  // Confirmed in the page's own dialog, which also takes the wrap-up.
  end() {
    openWrapUp(this, { ending: true });
  }

  setClosed(reason) {
    this.closed = true;
    this.status.textContent = reason;
    this.composer.hidden = true;
    this.transferButton.hidden = true;
    this.endButton.hidden = true;
    this.closeButton.hidden = false;
    this.closeSlashMenu();
    this.renderTabLabel();
  }

  reopen() {
    this.closed = false;
    this.state = "active";
    this.status.textContent = "";
    this.composer.hidden = false;
    this.transferButton.hidden = false;
    this.endButton.hidden = false;
    this.wrapUpButton.hidden = true;
    this.closeButton.hidden = true;
    this.refreshDetail();
    socket.send({ type: "subscribe", brand: this.brand, conversation_id: this.id, after_seq: this.lastSeq });
  }

  setEnded() {
    this.state = "ended";
    this.setClosed("This chat has ended.");
    // Whoever ended it, the agent who had it wraps it up; that also closes the tab.
    this.wrapUpButton.hidden = false;
  }

  // Take the tab and its panel out of the page.
  detach() {
    this.tabButton.remove();
    this.panel.remove();
  }
}
