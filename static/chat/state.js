// What the chat page knows about the customer and their conversation, and the copy of the
// conversation kept in sessionStorage so a reload (or the widget reopened) resumes the chat.

const STORE_KEY = `helpdesk.chat.${location.host}`;

// The signed identity the brand's site passed to the widget (?identity=…), if any.
export const identityToken = new URLSearchParams(location.search).get("identity") || "";

export const state = {
  config: null, // GET /config: the brand, its custom fields, categories, availability
  identity: null, // the verified prefill, when the brand passed a good token
  conversation: null, // {id, token, lastSeq, pending: [{client_msg_id, body}], surveyDone}
  shownSeqs: new Set(), // every message seq in the page, so a replayed frame is shown once
  agentName: "",
  hadAgent: undefined, // false when the chat ended without an agent: no survey then
  ended: false,
  lastPrechat: {}, // what the customer typed in the form, kept when it comes back
};

export function saveConversation() {
  if (state.conversation) sessionStorage.setItem(STORE_KEY, JSON.stringify(state.conversation));
  else sessionStorage.removeItem(STORE_KEY);
}

// The conversation is over or gone: the next visit starts afresh.
export function forgetConversation() {
  state.conversation = null;
  saveConversation();
}

export function loadConversation() {
  try {
    const stored = JSON.parse(sessionStorage.getItem(STORE_KEY) || "null");
    if (stored && stored.id && stored.token) return { lastSeq: 0, pending: [], surveyDone: false, ...stored };
  } catch (error) {
    /* a corrupt entry: start afresh */
  }
  return null;
}
