// The widget API (docs/api.md) as the chat page calls it. Calls about the conversation carry
// its token; none carries cookies. A call never throws: it answers {ok, status, data}, with a
// readable data.detail when the server could not be reached.
import { fetchJson } from "../common/http.js";
import { state } from "./state.js";
import { _, format, ngettext, pageLocale } from "./i18n.js";

const API = "/api/widget/v1";

export async function widgetApi(method, path, body, { auth = true, headers: extra = {} } = {}) {
  // Answers (errors included) in the page's language, whatever the browser's Accept-Language.
  const headers = { "X-Helpdesk-Locale": document.documentElement.lang || "en", ...extra };
  if (auth && state.conversation) headers.Authorization = `Bearer ${state.conversation.token}`;
  try {
    return await fetchJson(API + path, { method, headers, body, credentials: "omit" });
  } catch (error) {
    return { ok: false, status: 0, data: { detail: _("We couldn't reach the server. Check your connection and try again."), code: "network" } };
  }
}
