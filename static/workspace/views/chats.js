// The agent's open chats as tabs: opened when a chat is assigned, accepted or already held
// at load, one in front at a time (arrow keys move between tabs), closed by the agent once
// the chat is over or no longer theirs.
import { api } from "../api.js";
import { chatKey, socket, tabs, view } from "../state.js";
import { ChatTab } from "./chat-tab.js";
import { openTransfer } from "./transfer.js";

const tabsBar = document.getElementById("chat-tabs");
const panels = document.getElementById("chat-panels");
const chatsEmpty = document.getElementById("chats-empty");

// The chats this agent holds (after a reload or a reconnect).
export async function loadMine() {
  try {
    const data = await api("conversations");
    for (const c of data.conversations) openTab(c.brand, c.conversation_id, { focus: !view.activeKey });
  } catch (error) {
    console.warn("conversations", error);
  }
}

export function openTab(brand, id, { focus = false } = {}) {
  const k = chatKey(brand, id);
  let tab = tabs.get(k);
  if (!tab) {
    tab = new ChatTab(brand, id, { onSelect: activate, onClose: closeTab, onTransfer: openTransfer });
    tabsBar.append(tab.tabButton);
    panels.append(tab.panel);
    tabs.set(k, tab);
    tab.load();
  } else if (tab.closed && tab.state !== "ended") {
    // Handed back to us (e.g. a supervisor gave it back): live again.
    tab.reopen();
  }
  if (focus) activate(k);
  chatsEmpty.hidden = tabs.size > 0;
  return tab;
}

export function activate(k) {
  view.activations += 1;
  view.activeKey = k;
  for (const [tk, tab] of tabs) {
    const on = tk === k;
    tab.tabButton.setAttribute("aria-selected", String(on));
    tab.tabButton.tabIndex = on ? 0 : -1;
    tab.panel.hidden = !on;
    if (on && !document.hidden) tab.markRead();
  }
}

function closeTab(tab) {
  tabs.delete(tab.k);
  tab.detach();
  if (view.activeKey === tab.k) {
    view.activeKey = null;
    const next = tabs.keys().next();
    if (!next.done) activate(next.value);
  }
  chatsEmpty.hidden = tabs.size > 0;
}

// After every (re)connect: catch up on each open chat from the last seq we saw.
export function resubscribeTabs() {
  for (const tab of tabs.values()) {
    if (!tab.closed) socket.send({ type: "subscribe", brand: tab.brand, conversation_id: tab.id, after_seq: tab.lastSeq });
  }
}

tabsBar.addEventListener("keydown", (event) => {
  if (!["ArrowLeft", "ArrowRight"].includes(event.key)) return;
  const keys = [...tabs.keys()];
  const index = keys.indexOf(view.activeKey);
  const next = keys[(index + (event.key === "ArrowRight" ? 1 : keys.length - 1)) % keys.length];
  if (next) {
    activate(next);
    tabs.get(next).tabButton.focus();
  }
});

// Coming back to the page marks the chat in front as read (what came meanwhile stays
// counted on the other tabs).
function backInFront() {
  if (!document.hidden && view.activeKey) tabs.get(view.activeKey)?.markRead();
}
document.addEventListener("visibilitychange", backInFront);
window.addEventListener("focus", backInFront);
