// The transfer dialog: hand a chat to another agent of its brand, or back to the queue of a
// category, with a note for whoever takes it next.
import { el } from "../../common/dom.js";
import { api } from "../api.js";
import { config } from "../state.js";

const transferDialog = document.getElementById("transfer-dialog");
const transferForm = document.getElementById("transfer-form");
const transferAgent = document.getElementById("transfer-agent");
const transferCategory = document.getElementById("transfer-category");
const transferNote = document.getElementById("transfer-note");
const transferError = document.getElementById("transfer-error");
let transferTab = null; // the chat the open dialog is about

transferForm.addEventListener("change", (event) => {
  if (event.target.name !== "transfer_to") return;
  const toAgent = transferForm.elements.transfer_to.value === "agent";
  transferAgent.disabled = !toAgent;
  transferCategory.disabled = toAgent;
});
document.getElementById("transfer-cancel").addEventListener("click", () => transferDialog.close());

export async function openTransfer(tab) {
  transferTab = tab;
  transferError.hidden = true;
  transferForm.elements.transfer_to.value = "agent";
  transferAgent.disabled = false;
  transferCategory.disabled = true;
  transferNote.value = "";
  transferAgent.replaceChildren();
  transferCategory.replaceChildren();
  for (const category of config.categories[tab.brand] || []) {
    transferCategory.append(el("option", { value: category.slug, text: category.name }));
  }
  transferDialog.showModal();
  try {
    const data = await api(`brands/${tab.brand}/agents`);
    for (const agent of data.agents.filter((a) => a.id !== config.agent.id)) {
      const load = `${agent.presence}, ${agent.active_chats}/${agent.capacity}`;
      transferAgent.append(el("option", { value: String(agent.id), text: `${agent.name} (${load})` }));
    }
    if (!transferAgent.options.length) transferAgent.append(el("option", { value: "", text: "No other agents on this brand" }));
  } catch (error) {
    transferError.textContent = error.message;
    transferError.hidden = false;
  }
}

transferForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  const tab = transferTab;
  const body = { note: transferNote.value };
  if (transferForm.elements.transfer_to.value === "agent") {
    if (!transferAgent.value) return;
    body.to_agent_id = Number(transferAgent.value);
  } else {
    body.category = transferCategory.value;
  }
  try {
    await api(`brands/${tab.brand}/conversations/${tab.id}/transfer`, { method: "POST", body });
    transferDialog.close();
    tab.setClosed("You transferred this chat.");
  } catch (error) {
    transferError.textContent = error.message;
    transferError.hidden = false;
  }
});
