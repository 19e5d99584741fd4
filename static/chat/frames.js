// What the widget socket tells the page (docs/protocol.md, "Server to client"), each frame
// handed to the screen it concerns; and what the page shows when the socket drops.
import { widgetSocket, UNAUTHORIZED } from "./socket.js";
import { forgetConversation, state } from "./state.js";
import { showEnded, offerSurvey } from "./screens/ended.js";
import { markNotSent, markSeen, renderMessage, resendPending, setConnection, setTyping, showChat } from "./screens/live-chat.js";
import { POSITION_UNKNOWN, showLeft, showQueue, updateQueue } from "./screens/queue.js";
import { app } from "./screens/screen.js";
import { showExpired } from "./screens/unavailable.js";
import { _, format, ngettext, pageLocale } from "./i18n.js";

function handleFrame(frame) {
  switch (frame.type) {
    case "auth.ok":
      setConnection("");
      if (frame.agent) state.agentName = frame.agent.name;
      if (frame.state === "active") {
        showChat();
        resendPending();
      } else if (frame.state === "queued") {
        if (app.dataset.screen !== "queue") showQueue(POSITION_UNKNOWN, 0);
        resendPending();
      }
      if (frame.agent_read_seq) queueMicrotask(() => markSeen(frame.agent_read_seq));
      break;
    case "message":
      renderMessage(frame);
      break;
    case "queue.position":
      if (!state.ended && app.dataset.screen !== "chat") updateQueue(frame.position, frame.eta_seconds);
      break;
    case "agent.joined":
      state.agentName = frame.agent?.name || _("An agent");
      state.hadAgent = true;
      showChat();
      break;
    case "agent.left":
      setTyping(false);
      break;
    case "typing":
      if (frame.sender === "agent") setTyping(Boolean(frame.is_typing));
      break;
    case "read":
      if (frame.reader === "agent") markSeen(Number(frame.up_to_seq));
      break;
    case "conversation.ended":
      if (frame.state === "abandoned") {
        widgetSocket.stop();
        forgetConversation();
        showLeft();
      } else {
        showEnded(frame);
      }
      break;
    case "survey.requested":
      offerSurvey();
      break;
    case "error":
      if (frame.client_msg_id && markNotSent(frame.client_msg_id, frame.detail)) break;
      setConnection(frame.detail || "");
      break;
    default:
      break;
  }
}

function handleDrop(close) {
  setConnection(_("Reconnecting…"));
  if (close.code === UNAUTHORIZED) {
    widgetSocket.stop();
    forgetConversation();
    showExpired();
  }
}

export function listenToWidgetSocket() {
  widgetSocket.addEventListener("frame", (event) => handleFrame(event.detail));
  widgetSocket.addEventListener("drop", (event) => handleDrop(event.detail));
}
