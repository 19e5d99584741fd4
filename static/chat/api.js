// The widget API (docs/api.md) as the chat page calls it. Calls about the conversation carry
// its token; none carries cookies. A call never throws: it answers {ok, status, data}, with a
// readable data.detail when the server could not be reached.
import { fetchJson } from "../common/http.js";
import { state } from "./state.js";

const API = "/api/widget/v1";

export async function widgetApi(method, path, body, { auth = true, headers: extra = {} } = {}) {
  const headers = { ...extra };
  if (auth && state.conversation) headers.Authorization = `Bearer ${state.conversation.token}`;
  try {
    return await fetchJson(API + path, { method, headers, body, credentials: "omit" });
  } catch (error) {
    return { ok: false, status: 0, data: { detail: "We couldn't reach the server. Check your connection and try again.", code: "network" } };
  }
}
