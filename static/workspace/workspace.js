// The agent workspace (/agent/): presence, offers, the queue across brands and the open
// chats. This module starts the page and hands each agent-socket frame to the view it
// concerns; the views are in views/, what they share in state.js.
import { UNAUTHORIZED } from "./socket.js";
import { chatKey, offers, socket, tabs, view } from "./state.js";
import { loadMine, openTab, resubscribeTabs } from "./views/chats.js";
import { loadPresence, showConnection, showPresence } from "./views/presence.js";
import { refreshQueue, refreshQueueSoon, renderOffers, tick } from "./views/queue.js";

function handleFrame(frame) {
  const tab = frame.conversation_id != null && frame.brand ? tabs.get(chatKey(frame.brand, frame.conversation_id)) : null;
  switch (frame.type) {
    case "auth.ok":
      showConnection("connected");
      resubscribeTabs();
      refreshQueue();
      loadMine();
      break;
    case "offer":
      offers.set(chatKey(frame.brand, frame.conversation_id), frame);
      renderOffers();
      refreshQueueSoon();
      break;
    case "offer.withdrawn":
      offers.delete(chatKey(frame.brand, frame.conversation_id));
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
      offers.delete(chatKey(frame.brand, frame.conversation_id));
      renderOffers();
      openTab(frame.brand, frame.conversation_id, { focus: !view.activeKey });
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

socket.addEventListener("connecting", () => showConnection("connecting"));
socket.addEventListener("frame", (event) => handleFrame(event.detail));
socket.addEventListener("drop", (event) => {
  if (UNAUTHORIZED.includes(event.detail.code)) showConnection("unauthorized");
  showConnection("reconnecting");
});
socket.start();

setInterval(tick, 1000);
setInterval(refreshQueue, 15000);
loadPresence().catch((error) => console.warn("me", error));
refreshQueue();
