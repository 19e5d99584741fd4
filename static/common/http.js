// The one fetch wrapper under the widget API (static/chat/api.js) and the agent API
// (static/workspace/api.js). Each of those adds its own authentication and its own way of
// reporting a failure; this only sends JSON and reads the JSON answer.

// Resolves to {ok, status, data}; data is {} when the answer has no JSON body (a 502 from a
// proxy, a 204). A network failure rejects, as fetch() does.
export async function fetchJson(url, { method = "GET", headers = {}, body, credentials } = {}) {
  const options = { method, credentials, headers: { Accept: "application/json", ...headers } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  let data = {};
  try {
    data = await response.json();
  } catch (error) {
    data = {};
  }
  return { ok: response.ok, status: response.status, data };
}
