// The sidebar's offers (chats offered to this agent, with a countdown to accept) and the
// queue of every brand the agent serves (picked from here). The queue is re-read on
// queue.changed, every 15 s, and after every (re)connect; wait times tick in between.
// Customer text is only ever set through textContent (el() in common/dom.js).
import { el, renderKeyed } from "../../common/dom.js";
import { notify, refreshAlerts } from "../alerts.js";
import { showNotice } from "../health.js";
import { api, ApiError } from "../api.js";
import { brandBadge, formatWait } from "../display.js";
import { brands, chatKey, offers, view } from "../state.js";
import { openTab } from "./chats.js";

const offersList = document.getElementById("offers");
const offersEmpty = document.getElementById("offers-empty");
const queueList = document.getElementById("queue");
const queueCount = document.getElementById("queue-count");
const queueEmpty = document.getElementById("queue-empty");

// When each offer left the page (accepted, declined, withdrawn, assigned): a queue read
// asked before that must not bring it back, nor announce it again.
const settled = new Map();

export function offerSettle(brand, conversationId) {
  const k = chatKey(brand, conversationId);
  offers.delete(k);
  settled.set(k, performance.now());
}

// An offer reaches the page by its own frame or by a read of the queue (after a
// queue.changed, a reconnect, the 15-second re-read), whichever comes first, and the
// agent is told when it first shows, once: a frame that lost the race, or never came,
// must not leave an offer on screen that nobody was told about.
export function offerShow(offer, { keepKnown = false } = {}) {
  const k = chatKey(offer.brand, offer.conversation_id);
  const known = offers.has(k);
  if (known && keepKnown) return;
  settled.delete(k);
  offers.set(k, offer);
  if (!known) {
    notify({
      title: `Chat offered: ${offer.customer_name || "Customer"} (${offer.brand_name || offer.brand})`,
      body: offer.summary || "", tag: `offer-${offer.brand}-${offer.conversation_id}`,
    });
  }
}

export function renderOffers() {
  renderKeyed(offersList, [...offers.values()], {
    keyOf: (offer) => chatKey(offer.brand, offer.conversation_id),
    signature: (offer) => JSON.stringify([offer.customer_name, offer.summary, offer.expires_at, offerBrand(offer)]),
    render: renderOffer,
  });
  offersEmpty.hidden = offers.size > 0;
  refreshAlerts();
  tick();
}

function offerBrand(offer) {
  return brands[offer.brand] || { name: offer.brand_name || offer.brand };
}

function renderOffer(offer) {
  const brand = offerBrand(offer);
  const label = `${offer.customer_name || "Customer"} (${brand.name})`;
  return el("li", { class: "offer", "aria-label": `Offer: ${label}` },
    el("div", {}, brandBadge(brand.name, brand.color), " ", el("strong", { text: offer.customer_name || "Customer" })),
    el("p", { class: "summary", text: offer.summary || "" }),
    el("div", { class: "actions" },
      el("button", { type: "button", class: "primary", text: "Accept", "aria-label": `Accept chat with ${label}`, onclick: () => accept(offer.brand, offer.conversation_id) }),
      el("button", { type: "button", text: "Decline", "aria-label": `Decline chat with ${label}`, onclick: () => decline(offer.brand, offer.conversation_id) }),
      el("span", { class: "countdown", dataset: { expires: offer.expires_at || "" } }),
    ),
  );
}

export async function accept(brand, conversationId) {
  // Show the chat taken, unless the agent has moved to another tab while the request
  // was on its way (the socket's conversation.assigned can open the tab first).
  const activationsBefore = view.activations;
  try {
    await api(`brands/${brand}/conversations/${conversationId}/accept`, { method: "POST" });
    offerSettle(brand, conversationId);
    renderOffers();
    openTab(brand, conversationId, { focus: view.activations === activationsBefore });
  } catch (error) {
    offerSettle(brand, conversationId);
    renderOffers();
    showNotice(error.message);
  }
  refreshQueueSoon();
}

async function decline(brand, conversationId) {
  offerSettle(brand, conversationId);
  renderOffers();
  try {
    await api(`brands/${brand}/conversations/${conversationId}/decline`, { method: "POST" });
  } catch (error) {
    // 409: the offer had expired or was withdrawn already, which is what declining wants.
    if (!(error instanceof ApiError && error.status === 409)) showNotice(error.message);
  }
  refreshQueueSoon();
}

// Frames often come in bursts (offer, queue.changed, assigned): read the queue once after.
let queueTimer = null;
export function refreshQueueSoon() {
  clearTimeout(queueTimer);
  queueTimer = setTimeout(refreshQueue, 150);
}

export async function refreshQueue() {
  try {
    const asked = performance.now();
    const data = await api("queue");
    view.queue = { items: data.queue, fetchedAt: Date.now() };
    // Offers made while the socket was away still show up here.
    for (const item of data.queue) {
      const settledAt = settled.get(chatKey(item.brand, item.conversation_id));
      if (item.offered_to_me && !(settledAt > asked)) offerShow({ ...item, expires_at: item.offer_expires_at }, { keepKnown: true });
    }
    for (const [k, at] of settled) if (at < asked - 60_000) settled.delete(k);
    for (const [k] of offers) {
      if (!data.queue.some((i) => chatKey(i.brand, i.conversation_id) === k && i.offered_to_me)) offers.delete(k);
    }
    renderOffers();
    renderQueue();
  } catch (error) {
    console.warn("queue", error);
  }
}

function renderQueue() {
  const { items } = view.queue;
  renderKeyed(queueList, items, {
    keyOf: (item) => chatKey(item.brand, item.conversation_id),
    // The wait grows on every read; it is carried into the kept node, not a reason to rebuild it.
    signature: ({ waited_seconds: _, ...item }) => JSON.stringify(item),
    render: renderQueueItem,
    refresh: (node, item) => { node.querySelector(".wait").dataset.waited = String(item.waited_seconds); },
  });
  queueCount.textContent = items.length ? `(${items.length})` : "";
  queueEmpty.hidden = items.length > 0;
}

function renderQueueItem(item) {
  const label = `${item.customer_name || "Customer"} (${item.brand_name})`;
  const action = item.offered_to_me
    ? el("span", { class: "muted", text: "Offered to you" })
    : item.state === "offered"
      ? el("span", { class: "muted", text: "Being offered" })
      : el("button", { type: "button", text: "Pick", "aria-label": `Pick chat with ${label}`, onclick: () => accept(item.brand, item.conversation_id) });
  return el("li", { class: "queue-item", dataset: { brand: item.brand, conversation: String(item.conversation_id) } },
    el("div", { class: "queue-item__head" },
      brandBadge(item.brand_name, item.brand_color),
      el("span", { class: "category", text: item.category_name || item.category }),
      el("span", { class: "wait", "aria-label": "Waiting for", dataset: { waited: String(item.waited_seconds) }, text: formatWait(item.waited_seconds) }),
    ),
    el("strong", { text: item.customer_name || "Customer" }),
    el("p", { class: "summary", text: item.summary || "" }),
    action,
  );
}

// Every second: wait times grow and offer countdowns shrink without asking the server.
export function tick() {
  const elapsed = (Date.now() - view.queue.fetchedAt) / 1000;
  for (const wait of queueList.querySelectorAll(".wait")) {
    wait.textContent = formatWait(Number(wait.dataset.waited) + elapsed);
  }
  for (const countdown of offersList.querySelectorAll(".countdown")) {
    const left = countdown.dataset.expires ? (Date.parse(countdown.dataset.expires) - Date.now()) / 1000 : null;
    countdown.textContent = left === null ? "" : left > 0 ? `${Math.ceil(left)}s left` : "Expiring…";
  }
}
