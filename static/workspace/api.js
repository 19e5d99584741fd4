// The agent API (/api/agent/v1/) over the workspace session cookie; POSTs carry the CSRF
// token. A failed call throws an ApiError with the server's detail and code.
import { fetchJson } from "../common/http.js";

const API = "/api/agent/v1/";
const csrf = () => document.querySelector('meta[name="csrf-token"]').content;

export class ApiError extends Error {
  constructor(status, detail, code) {
    super(detail);
    this.status = status;
    this.code = code;
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const write = method !== "GET";
  const { ok, status, data } = await fetchJson(API + path, {
    method,
    credentials: "same-origin",
    headers: write ? { "X-CSRFToken": csrf() } : {},
    body: write ? body || {} : undefined,
  });
  if (!ok) throw new ApiError(status, data.detail || `Request failed (${status}).`, data.code);
  return data;
}
