// A websocket to this page's host that reconnects by itself, used by the customer's chat
// (static/chat/socket.js) and the agent's workspace and supervisor view
// (static/workspace/socket.js).
//
// It is an EventTarget so the views can listen without the socket knowing them:
//   "connecting"  a connection is being opened (the first one or a retry)
//   "frame"       event.detail is a frame from the server, already parsed from JSON
//   "drop"        event.detail is the CloseEvent; a listener may call stop() to give up
// A server's "auth.ok" frame marks the socket authenticated; send() only sends then, so a
// frame is never lost in a socket the server has not accepted yet: callers keep what was
// not sent and send it again after the next auth.ok.

export class ReconnectingSocket extends EventTarget {
  // path: the socket's path, or a function giving it (read at every connection).
  // authFrame: a function giving the first frame to send once open, if the socket is not
  // authenticated by its cookie.
  // Retries wait firstDelayMs, then twice as long each time up to maxDelayMs, each with
  // ±25% jitter so that clients dropped together by a restart do not all come back at once.
  constructor({ path, firstDelayMs, maxDelayMs, authFrame = null }) {
    super();
    this.path = path;
    this.firstDelayMs = firstDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.authFrame = authFrame;
    this.ws = null;
    this.authenticated = false;
    this.wanted = false;
    this.retries = 0;
    this.retryTimer = null;
  }

  // Connect, unless a connection is already open or on its way; keep reconnecting after drops.
  start() {
    this.wanted = true;
    clearTimeout(this.retryTimer);
    if (this.ws && this.ws.readyState <= WebSocket.OPEN) return;
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const path = typeof this.path === "function" ? this.path() : this.path;
    this.dispatchEvent(new Event("connecting"));
    const ws = new WebSocket(`${scheme}://${location.host}${path}`);
    this.ws = ws;
    this.authenticated = false;
    ws.addEventListener("open", () => {
      if (this.authFrame) ws.send(JSON.stringify(this.authFrame()));
    });
    ws.addEventListener("message", (event) => {
      let frame;
      try {
        frame = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (frame.type === "auth.ok") {
        this.authenticated = true;
        this.retries = 0;
      }
      this.dispatchEvent(new CustomEvent("frame", { detail: frame }));
    });
    ws.addEventListener("close", (event) => {
      if (ws !== this.ws) return; // one we stopped or replaced already
      this.ws = null;
      this.authenticated = false;
      this.dispatchEvent(new CustomEvent("drop", { detail: event }));
      if (this.wanted) this.retryLater();
    });
  }

  // Close for good (until the next start()).
  stop() {
    this.wanted = false;
    clearTimeout(this.retryTimer);
    const ws = this.ws;
    this.ws = null;
    this.authenticated = false;
    if (ws) ws.close(1000);
  }

  // Send a frame if the server has accepted the socket; false when it was not sent.
  send(frame) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN && this.authenticated) {
      this.ws.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  retryLater() {
    const delay = Math.min(this.maxDelayMs, this.firstDelayMs * 2 ** this.retries) * (0.75 + Math.random() * 0.5);
    this.retries += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.start(), delay);
  }
}
