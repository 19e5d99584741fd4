// The widget socket of the current conversation (docs/protocol.md, "Widget socket"). It
// authenticates with the conversation token and asks for every message after the last one
// shown, so a reconnect shows exactly what was missed. The frames are handled in frames.js.
import { ReconnectingSocket } from "../common/socket.js";
import { state } from "./state.js";

export const widgetSocket = new ReconnectingSocket({
  path: () => `/ws/widget/v1/conversations/${state.conversation.id}/`,
  authFrame: () => ({ type: "auth", token: state.conversation.token, after_seq: state.conversation.lastSeq }),
  firstDelayMs: 400,
  maxDelayMs: 10000,
});

// The token no longer opens the conversation (it was deleted, or the brand's secret changed).
export const UNAUTHORIZED = 4401;
