// Building page elements without ever parsing text as HTML: the chat page, the workspace,
// the offline list and the supervisor view all put customer text in the page through el().

// el("li", {class: "message", text: body, dataset: {seq: "3"}, onclick: open}, child, ...)
// "text" sets textContent, "on…" adds a listener, "dataset" fills data-* attributes; a
// value of true is an empty attribute, and null, undefined or false leaves it out.
// Children that are not nodes become text nodes.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value === true) node.setAttribute(key, "");
    else node.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}
