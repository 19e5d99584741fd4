// The agent workspace (/agent/): presence, offers, the queue across brands and the open
// chats. This module starts the page and hands each agent-socket frame to the view it
// concerns; the views are in views/, what they share in state.js.
import { notify } from "./alerts.js";
import { apiHealth } from "./api.js";
import { setProblem, showNotice } from "./health.js";
import { UNAUTHORIZED } from "./socket.js";
import { chatKey, offers, socket, tabs, view } from "./state.js";
import { activate, loadMine, openTab, resubscribeTabs } from "./views/chats.js";
import { loadPresence, showConnection, showPresence } from "./views/presence.js";
import { accept, offerSettle, offerShow, refreshQueue, refreshQueueSoon, renderOffers, tick } from "./views/queue.js";

function handleFrame(frame) {
  const tab = frame.conversation_id != null && frame.brand ? tabs.get(chatKey(frame.brand, frame.conversation_id)) : null;
  switch (frame.type) {
    case "auth.ok":
      showConnection("connected");
      setProblem("socket", null);
      resubscribeTabs();
      refreshQueue();
      loadMine();
      break;
    case "offer":
      offerShow(frame);
      renderOffers();
      refreshQueueSoon();
      break;
    case "offer.withdrawn":
      offerSettle(frame.brand, frame.conversation_id);
      renderOffers();
      refreshQueueSoon();
      break;
    case "queue.changed":
      refreshQueueSoon();
      break;
    case "presence":
      showPresence(frame.presence);
      break;
    case "conversation.assigned":
      offerSettle(frame.brand, frame.conversation_id);
      renderOffers();
      openTab(frame.brand, frame.conversation_id, { focus: !view.activeKey });
      break;
    case "conversation.unassigned":
      if (tab && !tab.closed) tab.setClosed("This chat is no longer yours (transferred or taken over).");
      break;
    case "message":
      if (tab) tab.addMessage(frame, { live: true });
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
    case "alert":
      // A promise in danger for this agent: an SLA about to be missed, a customer waiting
      // for their reply. Said in the page, with a sound and, in the background, a notification.
      showNotice(`${frame.brand_name}: ${frame.detail}`);
      notify({ title: `${frame.brand_name}: attention`, body: frame.detail, tag: `alert-${frame.brand}-${frame.conversation_id}`, onClick: () => tab && activate(chatKey(frame.brand, frame.conversation_id)) });
      break;
    case "error":
      // A refused frame: the view that sent it shows its own failure over HTTP; this one
      // is for frames without an answer of their own (typing, read).
      console.warn("socket error", frame.code, frame.detail);
      break;
    default:
      break;
  }
}

socket.addEventListener("connecting", () => showConnection("connecting"));
socket.addEventListener("frame", (event) => handleFrame(event.detail));
socket.addEventListener("drop", (event) => {
  if (UNAUTHORIZED.includes(event.detail.code)) showConnection("unauthorized");
  showConnection("reconnecting");
  setProblem("socket", "The live connection dropped; reconnecting…");
});

// The API is back: re-read everything shown, so nothing stale stays on screen as current.
apiHealth.addEventListener("up", () => {
  refreshQueue();
  loadMine();
  loadPresence().catch(() => {});
  for (const tab of tabs.values()) if (!tab.closed) tab.refreshDetail();
});

// Keyboard shortcuts (listed in the help dialog, "?").
const helpDialog = document.getElementById("help-dialog");
const typingInto = (target) => target.closest("input, textarea, select, [contenteditable]") !== null;
document.getElementById("help-open").addEventListener("click", () => helpDialog.showModal());
document.addEventListener("keydown", (event) => {
  if (document.querySelector("dialog[open]") && event.key !== "Escape") return;
  if (event.key === "?" && !typingInto(event.target)) {
    event.preventDefault();
    helpDialog.showModal();
  } else if (event.altKey && event.code === "KeyA") {
    const oldest = [...offers.values()][0];
    if (oldest) {
      event.preventDefault();
      accept(oldest.brand, oldest.conversation_id);
    }
  } else if (event.altKey && /^Digit[1-9]$/.test(event.code)) {
    // event.code, not event.key: Alt+digit types another character on some layouts.
    const key = [...tabs.keys()][Number(event.code.slice(5)) - 1];
    if (key) {
      event.preventDefault();
      activate(key);
      tabs.get(key).textarea.focus();
    }
  }
});
socket.start();

setInterval(tick, 1000);
setInterval(refreshQueue, 15000);
loadPresence().catch((error) => console.warn("me", error));
refreshQueue();
