// The agent socket (docs/protocol.md, "Agent socket"): one connection for every brand the
// agent serves, authenticated by the session cookie, reconnecting by itself. Its first
// frame after every (re)connect is auth.ok; listeners re-subscribe to their chats there.
import { ReconnectingSocket } from "../common/socket.js";

// Close codes for a session that no longer signs the agent in.
export const UNAUTHORIZED = [4401, 4001];

export function agentSocket() {
  return new ReconnectingSocket({ path: "/ws/agent/v1/", firstDelayMs: 500, maxDelayMs: 15000 });
}
