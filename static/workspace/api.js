// The agent API (/api/agent/v1/) over the workspace session cookie; POSTs carry the CSRF
// token. A failed call throws an ApiError with the server's detail and code.
//
// apiHealth says whether the API answers: "down" when a call cannot reach it or it answers
// 5xx, then it probes GET me (backing off to 15 s) until it answers again and says "up", so
// the views re-read what they show instead of leaving stale data on screen as current.
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

export const apiHealth = new EventTarget();
apiHealth.down = false;
let probeTimer = null;
let probeDelay = 1000;

function reportDown(detail) {
  if (!apiHealth.down) {
    apiHealth.down = true;
    probeDelay = 1000;
    apiHealth.dispatchEvent(new CustomEvent("down", { detail }));
  }
  clearTimeout(probeTimer);
  probeTimer = setTimeout(probe, probeDelay);
  probeDelay = Math.min(15000, probeDelay * 2);
}

function reportUp() {
  if (!apiHealth.down) return;
  apiHealth.down = false;
  clearTimeout(probeTimer);
  apiHealth.dispatchEvent(new Event("up"));
}

async function probe() {
  try {
    const { status } = await fetchJson(API + "me", { credentials: "same-origin" });
    if (status < 500) reportUp();
    else reportDown(`The server answered ${status}.`);
  } catch (error) {
    reportDown("The server cannot be reached.");
  }
}

export async function api(path, { method = "GET", body } = {}) {
  const write = method !== "GET";
  let answer;
  try {
    answer = await fetchJson(API + path, {
      method,
      credentials: "same-origin",
      headers: write ? { "X-CSRFToken": csrf() } : {},
      body: write ? body || {} : undefined,
    });
  } catch (error) {
    reportDown("The server cannot be reached.");
    throw new ApiError(0, "The server cannot be reached; nothing was changed. Try again in a moment.", "network");
  }
  const { ok, status, data } = answer;
  if (status >= 500) {
    reportDown(`The server answered ${status}.`);
    throw new ApiError(status, data.detail || `The server is having trouble (${status}); try again in a moment.`, data.code || "unavailable");
  }
  reportUp();
  if (!ok) throw new ApiError(status, data.detail || `Request failed (${status}).`, data.code);
  return data;
}
