// The launcher's unread badge: the agent's messages the customer has not had in front of
// them (the widget closed, or the tab in the background), told to the host page.
import { toHost } from "./host.js";
import { state } from "./state.js";

let lastTold = -1;

// Recount after a message arrived or the widget opened or closed; true when seenSeq moved.
export function unreadRecount() {
  const conversation = state.conversation;
  let moved = false;
  if (conversation && state.widgetOpen && document.visibilityState === "visible" && conversation.seenSeq < conversation.lastSeq) {
    conversation.seenSeq = conversation.lastSeq;
    moved = true;
  }
  const count = conversation ? [...state.agentSeqs].filter((seq) => seq > (conversation.seenSeq || 0)).length : 0;
  if (count !== lastTold) {
    lastTold = count;
    toHost({ type: "helpdesk-widget.unread", count });
  }
  return moved;
}
