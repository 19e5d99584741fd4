// The top bar's controls: the agent's presence (online / away / offline) and the line that
// says whether the socket is connected, which agents see while the network is away.
import { askNotificationPermission } from "../alerts.js";
import { showNotice } from "../health.js";
import { api } from "../api.js";

const presenceSelect = document.getElementById("presence");
const connectionStatus = document.getElementById("connection");

const CONNECTION_LABELS = { connecting: "Connecting…", connected: "Connected", reconnecting: "Reconnecting…", unauthorized: "Signed out" };

export async function loadPresence() {
  const me = await api("me");
  presenceSelect.value = me.presence;
}

// The presence changed elsewhere (another tab, a supervisor, the away timer).
export function showPresence(presence) {
  presenceSelect.value = presence;
}

export function showConnection(status) {
  connectionStatus.textContent = CONNECTION_LABELS[status] || status;
  connectionStatus.dataset.status = status;
  if (status === "unauthorized") location.href = "/agent/login/?next=/agent/";
}

presenceSelect.addEventListener("change", async () => {
  // Going online is when the agent wants to be told about chats: ask then, in the gesture.
  if (presenceSelect.value === "online") askNotificationPermission();
  try {
    const me = await api("presence", { method: "POST", body: { presence: presenceSelect.value } });
    presenceSelect.value = me.presence;
  } catch (error) {
    showNotice(error.message);
  }
});
