// The line under the top bar that says when the workspace is not current: the agent API
// failing (apiHealth in api.js) or the agent socket away. While either is down the page is
// marked stale (body.is-stale dims what may be out of date); each recovers on its own, and
// the banner goes once both are back.
import { apiHealth } from "./api.js";

const banner = document.getElementById("service-status");
const problems = new Map(); // source -> message

function render() {
  const messages = [...problems.values()];
  banner.hidden = messages.length === 0;
  banner.textContent = messages.length ? `${messages.join(" ")} What you see may be out of date; this clears by itself when it is back.` : "";
  document.body.classList.toggle("is-stale", messages.length > 0);
}

export function setProblem(source, message) {
  if (message) problems.set(source, message);
  else problems.delete(source);
  render();
}

apiHealth.addEventListener("down", (event) => setProblem("api", `The workspace cannot reach the server (${event.detail}). Retrying…`));
apiHealth.addEventListener("up", () => setProblem("api", null));

// A one-off failure of something the agent just did (an offer gone, presence refused):
// said in the page, not in a blocking alert().
const notice = document.getElementById("workspace-notice");
let noticeTimer = null;
export function showNotice(message) {
  if (!notice) return;
  notice.textContent = message;
  notice.hidden = false;
  clearTimeout(noticeTimer);
  noticeTimer = setTimeout(() => (notice.hidden = true), 8000);
}
