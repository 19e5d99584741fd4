// The end-of-chat dialog, in the page rather than window.confirm(): it asks to confirm the
// end and takes the wrap-up (the brand's tags, an optional disposition) in the same step.
// For a chat that ended on the customer's side it only takes the wrap-up. Either way the
// tab leaves the tab bar once it is done.
import { el } from "../../common/dom.js";
import { api } from "../api.js";

const dialog = document.getElementById("wrapup-dialog");
const form = document.getElementById("wrapup-form");
const title = document.getElementById("wrapup-title");
const intro = document.getElementById("wrapup-intro");
const tagsBox = document.getElementById("wrapup-tags");
const disposition = document.getElementById("wrapup-disposition");
const errorLine = document.getElementById("wrapup-error");
const submit = document.getElementById("wrapup-submit");
let current = null; // {tab, ending}

// brand -> Promise of {tags, dispositions}, read once per page.
const options = new Map();
function wrapUpOptions(brand) {
  if (!options.has(brand)) {
    const read = api(`brands/${brand}/tags`).catch((error) => {
      options.delete(brand); // read again next time
      throw error;
    });
    options.set(brand, read);
  }
  return options.get(brand);
}

document.getElementById("wrapup-cancel").addEventListener("click", () => dialog.close());

export async function openWrapUp(tab, { ending }) {
  current = { tab, ending };
  errorLine.hidden = true;
  title.textContent = ending ? "End chat" : "Wrap up chat";
  intro.textContent = ending
    ? `End the chat with ${tab.detail?.customer.name || "the customer"}? Tag it on the way out (optional).`
    : `Tag the chat with ${tab.detail?.customer.name || "the customer"} (optional).`;
  submit.textContent = ending ? "End chat" : "Save wrap-up";
  tagsBox.replaceChildren(el("p", { class: "muted", text: "Loading tags…" }));
  disposition.value = "";
  dialog.showModal();
  try {
    const data = await wrapUpOptions(tab.brand);
    if (current?.tab !== tab) return;
    tagsBox.replaceChildren(
      ...(data.tags.length
        ? data.tags.map((t) => el("label", { class: "tag-choice" }, el("input", { type: "checkbox", name: "tags", value: t.slug }), ` ${t.name}`))
        : [el("p", { class: "muted", text: "This brand has no tags yet." })]),
    );
    disposition.replaceChildren(el("option", { value: "", text: "No disposition" }), ...data.dispositions.map((d) => el("option", { value: d.value, text: d.name })));
  } catch (error) {
    tagsBox.replaceChildren(el("p", { class: "alert", text: `Tags could not be loaded: ${error.message}` }));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (!current) return;
  const { tab, ending } = current;
  const body = { tags: [...form.querySelectorAll('input[name="tags"]:checked')].map((i) => i.value), disposition: disposition.value };
  submit.disabled = true;
  errorLine.hidden = true;
  try {
    await api(`brands/${tab.brand}/conversations/${tab.id}/${ending ? "end" : "wrap-up"}`, { method: "POST", body });
    dialog.close();
    current = null;
    tab.setEnded();
    tab.onClose(tab);
  } catch (error) {
    errorLine.textContent = error.message;
    errorLine.hidden = false;
  } finally {
    submit.disabled = false;
  }
});
