// Message text with its http(s) links made clickable, built node by node (never as HTML),
// so whatever a customer or an agent typed stays text.
import { el } from "../common/dom.js";

const URL_PATTERN = /(https?:\/\/[^\s<>"']+)/g;

export function linkify(text) {
  const fragment = document.createDocumentFragment();
  for (const part of String(text).split(URL_PATTERN)) {
    if (!part) continue;
    let candidate = part;
    let trailing = "";
    if (/^https?:\/\//.test(part)) {
      // Punctuation after a link ends the sentence, not the address.
      const match = part.match(/[.,;:!?)\]]+$/);
      if (match) {
        trailing = match[0];
        candidate = part.slice(0, -trailing.length);
      }
      let url = null;
      try {
        url = new URL(candidate);
      } catch (error) {
        url = null;
      }
      if (url && (url.protocol === "http:" || url.protocol === "https:")) {
        fragment.append(el("a", { href: url.href, target: "_blank", rel: "noopener noreferrer nofollow", text: candidate }));
        if (trailing) fragment.append(document.createTextNode(trailing));
        continue;
      }
    }
    fragment.append(document.createTextNode(part));
  }
  return fragment;
}
