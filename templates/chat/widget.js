/* The chat widget for a brand's own site:
   <script src="https://BRAND-HOST/widget.js" data-identity="SIGNED-TOKEN" async></script>
   It adds a launcher button that opens the hosted chat page in an iframe. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__helpdeskWidgetLoaded) return;
  window.__helpdeskWidgetLoaded = true;
  var settings = {{ settings_json|safe }};
  var origin = new URL(script.src, location.href).origin;
  var identity = script.getAttribute("data-identity") || "";
  var chatUrl = origin + "/chat/" + (identity ? "?identity=" + encodeURIComponent(identity) : "");
  var prefix = "hd-widget-" + Math.random().toString(36).slice(2, 8);

  var style = document.createElement("style");
  style.textContent =
    "." + prefix + "-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;width:60px;height:60px;border-radius:50%;border:0;" +
    "background:" + settings.color + ";color:#fff;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer;display:flex;align-items:center;justify-content:center;padding:0}" +
    "." + prefix + "-launcher:focus-visible{outline:3px solid #111;outline-offset:3px}" +
    "." + prefix + "-launcher svg{width:28px;height:28px;fill:currentColor}" +
    "." + prefix + "-frame{position:fixed;right:20px;bottom:92px;z-index:2147483000;width:380px;height:600px;max-height:calc(100vh - 112px);" +
    "border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff}" +
    "@media (max-width:480px){." + prefix + "-frame{right:0;bottom:0;width:100vw;height:100%;max-height:none;border-radius:0}" +
    "." + prefix + "-launcher.open{bottom:auto;top:10px;right:10px;width:44px;height:44px}}";
  document.head.appendChild(style);

  var chatIcon = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>';
  var closeIcon = '<svg viewBox="0 0 24 24" aria-hidden="true" focusable="false"><path d="M6.4 5 5 6.4 10.6 12 5 17.6 6.4 19 12 13.4 17.6 19 19 17.6 13.4 12 19 6.4 17.6 5 12 10.6z"/></svg>';

  var button = document.createElement("button");
  button.type = "button";
  button.className = prefix + "-launcher";
  button.setAttribute("aria-expanded", "false");
  button.setAttribute("data-helpdesk-launcher", "");
  var frame = null;

  function label(open) {
    button.setAttribute("aria-label", open ? "Close the chat" : "Chat with " + settings.name);
    button.innerHTML = open ? closeIcon : chatIcon; // fixed markup, no outside text
    button.classList.toggle("open", open);
  }

  function open() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.src = chatUrl;
      frame.title = "Chat with " + settings.name;
      frame.className = prefix + "-frame";
      frame.setAttribute("data-helpdesk-frame", "");
      frame.setAttribute("allow", "clipboard-write");
      document.body.appendChild(frame);
    }
    frame.hidden = false;
    button.setAttribute("aria-expanded", "true");
    label(true);
    frame.focus();
  }

  function close() {
    if (frame) frame.hidden = true;
    button.setAttribute("aria-expanded", "false");
    label(false);
    button.focus();
  }

  button.addEventListener("click", function () {
    if (frame && !frame.hidden) close(); else open();
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && frame && !frame.hidden) close();
  });
  // Escape pressed inside the iframe never reaches this page; the chat page says so.
  window.addEventListener("message", function (event) {
    if (event.origin === origin && event.data && event.data.type === "helpdesk-widget.close") close();
  });
  label(false);

  function mount() { document.body.appendChild(button); }
  if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  window.HelpdeskWidget = { open: open, close: close };
})();
