// What the chat page knows about the customer and their conversation. The conversation is
// kept where a reload (or the widget reopened, or a second tab of the brand's site) finds it:
// see host.js for where that is.
import { hostStore } from "./host.js";

const params = new URLSearchParams(location.search);

export const state = {
  config: null, // GET /config: the brand, its custom fields, categories, availability
  identityToken: params.get("identity") || "", // the signed identity the brand's site passed, if any
  identity: null, // the verified prefill, when the brand passed a good token
  conversation: null, // {id, token, lastSeq, pending: [{client_msg_id, body, attachment_ids?, files?}], surveyDone, seenSeq}
  shownSeqs: new Set(), // every message seq in the page, so a replayed frame is shown once
  agentSeqs: new Set(), // seqs of the agent's messages, for the launcher's unread count
  widgetOpen: true, // false while the widget's frame is closed on the host page
  agentName: "",
  hadAgent: undefined, // false when the chat ended without an agent: no survey then
  ended: false,
  lastPrechat: {}, // what the customer typed in the form (or the host page prefilled)
};

export function saveConversation() {
  hostStore(state.conversation);
}

// The conversation is over or gone: the next visit starts afresh.
export function forgetConversation() {
  state.conversation = null;
  saveConversation();
}

// A stored conversation as the page uses it, or null when it is not one.
export function conversationFrom(stored) {
  if (stored && typeof stored === "object" && stored.id && stored.token) return { lastSeq: 0, pending: [], surveyDone: false, seenSeq: 0, ...stored };
  return null;
}
