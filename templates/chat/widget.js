/* The chat widget for a brand's own site:
   <script src="https://BRAND-HOST/widget.js" data-locale="de" data-identity="SIGNED-TOKEN"
           data-prefill-name="Dana" data-prefill-email="dana@example.com" async></script>
   It adds a launcher button that opens the hosted chat page in an iframe, and keeps the chat
   (its id and token) in this site's own localStorage: a frame from another site may not use
   storage of its own, so a reload or a second tab of this site finds the chat here.
   The page can drive it: HelpdeskWidget.open(), .close(), .identify(token),
   .on("unread", function (count) {...}). docs/protocol.md, "The widget on a brand's site". */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__helpdeskWidgetLoaded) return;
  window.__helpdeskWidgetLoaded = true;
  var settings = {{ settings_json|safe }};
  // Messages from the frame are accepted only from this origin, and sent only to it.
  var origin = new URL(script.src, location.href).origin;
  var identity = script.getAttribute("data-identity") || "";
  var locale = script.getAttribute("data-locale") || "";
  var prefill = {};
  ["name", "email", "customer-id", "product-id", "category", "summary"].forEach(function (key) {
    var value = script.getAttribute("data-prefill-" + key);
    if (value) prefill[key.replace("-", "_")] = value;
  });
  var storeKey = "helpdesk-widget:" + origin;
  var prefix = "hd-widget-" + Math.random().toString(36).slice(2, 8);
  var listeners = { unread: [] };
  var unread = 0;

  // This site's storage is first-party here; it may still be refused (private modes).
  var memory = null;
  function readStored() {
    try { return JSON.parse(window.localStorage.getItem(storeKey) || "null"); } catch (e) { return memory; }
  }
  function writeStored(conversation) {
    memory = conversation || null;
    try {
      if (conversation) window.localStorage.setItem(storeKey, JSON.stringify(conversation));
      else window.localStorage.removeItem(storeKey);
    } catch (e) { /* kept in memory for this page */ }
  }

  function chatUrl() {
    var query = "?host_origin=" + encodeURIComponent(location.origin);
    if (identity) query += "&identity=" + encodeURIComponent(identity);
    if (locale) query += "&locale=" + encodeURIComponent(locale);
    return origin + "/chat/" + query;
  }

  var style = document.createElement("style");
  style.textContent =
    "." + prefix + "-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;" +
    "background:" + settings.color + ";color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer;display:flex;align-items:center;justify-content:center;padding:0}" +
    "." + prefix + "-launcher[hidden]{display:none}" +
    "." + prefix + "-launcher:focus-visible{outline:3px solid #111;outline-offset:3px}" +
    "." + prefix + "-launcher svg{width:28px;height:28px;fill:currentColor}" +
    "." + prefix + "-badge{position:absolute;top:-4px;right:-4px;min-width:22px;height:22px;border-radius:11px;background:#d92d20;color:#fff;" +
    "font:600 12px/22px system-ui,sans-serif;text-align:center;padding:0 5px;box-sizing:border-box}" +
    "." + prefix + "-badge[hidden]{display:none}" +
    "." + prefix + "-frame{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:380px;height:600px;max-height:calc(100vh - 112px);" +
    "border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff}" +
    "." + prefix + "-frame[hidden]{display:none}" +
    "@media (max-width:480px){." + prefix + "-frame{right:0;bottom:0;width:100vw;height:100%;max-height:none;border-radius:0}" +
    "." + prefix + "-launcher.open{bottom:auto;top:10px;right:10px;width:44px;height:44px}}";
  document.head.appendChild(style);

  var chatIcon = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  var closeIcon = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12 19 6.4 17.6 5 12 10.6z"/></svg>';

  var button = document.createElement("button");
  button.type = "button";
  button.className = prefix + "-launcher";
  button.hidden = true; // until the chat page says the brand takes chats or messages
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("data-helpdesk-launcher", "");
  var badge = document.createElement("span");
  badge.className = prefix + "-badge";
  badge.hidden = true;
  badge.setAttribute("data-helpdesk-unread", "");
  var frame = null;
  var isOpen = false;

  function words(text, values) {
    return text.replace(/%\((\w+)\)s/g, function (match, key) { return key in values ? String(values[key]) : match; });
  }
  var openLabel = words(settings.labels.open, { brand: settings.name });

  function label(open) {
    var name = openLabel;
    button.setAttribute("aria-label", open ? settings.labels.close : unread ? name + " (" + words(settings.labels.unread, { count: unread }) + ")" : name);
    button.innerHTML = open ? closeIcon : chatIcon; // fixed markup, no outside text
    badge.textContent = String(unread);
    badge.hidden = open || !unread;
    button.appendChild(badge);
    button.classList.toggle("open", open);
  }

  function post(message) {
    if (frame && frame.contentWindow) frame.contentWindow.postMessage(message, origin);
  }

  // The frame loads with the page (hidden), so the launcher knows whether the brand takes
  // chats, and a chat going on keeps its socket for the unread badge.
  function ensureFrame() {
    if (frame) return;
    frame = document.createElement("iframe");
    frame.src = chatUrl();
    frame.title = openLabel;
    frame.className = prefix + "-frame";
    frame.hidden = true;
    frame.setAttribute("data-helpdesk-frame", "");
    frame.setAttribute("allow", "clipboard-write");
    document.body.appendChild(frame);
  }

  function open() {
    ensureFrame();
    isOpen = true;
    frame.hidden = false;
    button.hidden = false;
    button.setAttribute("aria-expanded", "true");
    label(true);
    post({ type: "helpdesk-widget.visibility", open: true });
    frame.focus();
  }

  function close() {
    isOpen = false;
    if (frame) frame.hidden = true;
    button.setAttribute("aria-expanded", "false");
    label(false);
    post({ type: "helpdesk-widget.visibility", open: false });
    if (!button.hidden) button.focus();
  }

  function setUnread(count) {
    count = Math.max(0, Number(count) || 0);
    if (count === unread) return;
    unread = count;
    label(isOpen);
    for (var i = 0; i < listeners.unread.length; i += 1) {
      try { listeners.unread[i](unread); } catch (e) { /* one page handler must not stop the others */ }
    }
  }

  button.addEventListener("click", function () {
    if (isOpen) close(); else open();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && isOpen) close();
  });
  window.addEventListener("message", function (event) {
    if (event.origin !== origin || !frame || event.source !== frame.contentWindow) return;
    var data = event.data;
    if (!data || typeof data.type !== "string") return;
    switch (data.type) {
      case "helpdesk-widget.ready":
        post({ type: "helpdesk-widget.init", conversation: readStored(), prefill: prefill, identity: identity, open: isOpen });
        break;
      case "helpdesk-widget.store":
        writeStored(data.conversation && typeof data.conversation === "object" ? data.conversation : null);
        break;
      case "helpdesk-widget.status":
        if (!isOpen) button.hidden = !data.launcher;
        break;
      case "helpdesk-widget.unread":
        setUnread(data.count);
        break;
      case "helpdesk-widget.close": // Escape pressed inside the frame never reaches this page
        close();
        break;
      default:
        break;
    }
  });
  // Another tab of this site started or ended a chat.
  window.addEventListener("storage", function (event) {
    if (event.key !== storeKey) return;
    var conversation = null;
    try { conversation = JSON.parse(event.newValue || "null"); } catch (e) { conversation = null; }
    post({ type: "helpdesk-widget.stored", conversation: conversation });
  });
  label(false);

  function mount() {
    document.body.appendChild(button);
    ensureFrame();
  }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  window.HelpdeskWidget = {
    open: open,
    close: close,
    identify: function (token) {
      identity = typeof token === "string" ? token : "";
      post({ type: "helpdesk-widget.identify", token: identity });
    },
    on: function (name, handler) {
      if (listeners[name] && typeof handler === "function") listeners[name].push(handler);
    },
  };
})();
