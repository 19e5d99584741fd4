// What the workspace page holds while it is open: the agent and brands from the page's
// config, the offers and open chat tabs (keyed by chatKey), the last queue read, and the one
// agent socket every view sends on (started by workspace.js once it listens to it).
import { agentSocket } from "./socket.js";

export const config = JSON.parse(document.getElementById("workspace-config").textContent);
export const brands = Object.fromEntries(config.brands.map((b) => [b.slug, b]));

// Conversation ids are per brand: a chat is known by both.
export const chatKey = (brand, id) => `${brand}:${id}`;

export const offers = new Map(); // chatKey -> {brand, conversation_id, customer_name, summary, expires_at}
export const tabs = new Map(); // chatKey -> ChatTab
export const view = {
  queue: { items: [], fetchedAt: Date.now() },
  activeKey: null, // the tab in front
  activations: 0, // how many times a tab was brought to the front
};

export const socket = agentSocket();
