// The agent socket, reconnecting by itself with exponential backoff. The session cookie
// authenticates it; `onopen` runs after every auth.ok so callers re-subscribe there.
export class AgentSocket {
  constructor({ onframe, onopen, onstatus }) {
    this.onframe = onframe;
    this.onopen = onopen;
    this.onstatus = onstatus || (() => {});
    this.attempt = 0;
    this.ws = null;
    this.ready = false;
    this.closedByUs = false;
    this.connect();
  }

  connect() {
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    this.onstatus("connecting");
    const ws = new WebSocket(`${scheme}://${location.host}/ws/agent/v1/`);
    this.ws = ws;
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (_) {
        return;
      }
      if (frame.type === "auth.ok") {
        this.attempt = 0;
        this.ready = true;
        this.onstatus("connected");
        this.onopen(frame);
        return;
      }
      this.onframe(frame);
    });
    ws.addEventListener("close", (event) => {
      this.ready = false;
      if (this.closedByUs) return;
      if (event.code === 4401 || event.code === 4001) {
        this.onstatus("unauthorized");
      }
      const delay = Math.min(15000, 500 * 2 ** this.attempt) * (0.75 + Math.random() * 0.5);
      this.attempt += 1;
      this.onstatus("reconnecting");
      setTimeout(() => this.connect(), delay);
    });
  }

  send(frame) {
    if (this.ready && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // For tests and debugging: drop the connection as a network failure would.
  drop() {
    if (this.ws) this.ws.close();
  }
}
