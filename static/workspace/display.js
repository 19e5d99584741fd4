// How the agent pages show a brand (a badge in its colour) and a duration (1m 05s), shared
// by the workspace, the offline messages and the supervisor view.
import { el } from "../common/dom.js";

export function formatWait(seconds) {
  seconds = Math.max(0, Math.floor(seconds));
  const m = Math.floor(seconds / 60);
  const s = seconds % 60;
  return m ? `${m}m ${String(s).padStart(2, "0")}s` : `${s}s`;
}

export function brandBadge(name, color) {
  const badge = el("span", { class: "badge", text: name });
  // The colour is the brand's own setting: only a hex colour goes into the style.
  if (color && /^#[0-9a-fA-F]{3,8}$/.test(color)) {
    badge.style.backgroundColor = color;
    badge.style.color = textOn(color);
  }
  return badge;
}

// Dark or light text, whichever reads on the brand colour (by its perceived brightness).
function textOn(hex) {
  let h = hex.slice(1);
  if (h.length === 3) h = h.split("").map((c) => c + c).join("");
  const [r, g, b] = [0, 2, 4].map((i) => parseInt(h.slice(i, i + 2), 16));
  return 0.299 * r + 0.587 * g + 0.114 * b > 150 ? "#111" : "#fff";
}
