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

// Brings a list in step with its data by key, keeping the node of every item whose data did
// not change. A refresh (a frame, the periodic re-read) then never swaps a button out from
// under the pointer: a press that began on the old node would otherwise end on a new one,
// and the browser fires no click. keyOf(item) names an item, render(item) builds its node,
// signature(item) is what a change means (volatile fields left out), and refresh(node, item)
// carries those volatile fields into a kept node.
export function renderKeyed(list, items, { keyOf, render, signature = JSON.stringify, refresh = () => {} }) {
  const kept = new Map([...list.children].filter((node) => node.keyedBy !== undefined).map((node) => [node.keyedBy, node]));
  const nodes = items.map((item) => {
    const key = keyOf(item);
    const sign = signature(item);
    const old = kept.get(key);
    if (old && old.keyedSignature === sign) {
      refresh(old, item);
      return old;
    }
    const node = render(item);
    node.keyedBy = key;
    node.keyedSignature = sign;
    return node;
  });
  nodes.forEach((node, index) => {
    if (list.children[index] !== node) list.insertBefore(node, list.children[index] || null);
  });
  while (list.children.length > nodes.length) list.lastElementChild.remove();
}
