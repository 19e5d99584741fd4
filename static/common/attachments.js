// Attachments in both pages (docs/protocol.md, "Attachments"): a tray of files being
// uploaded before a message is sent, and a message's files as thumbnails or download
// links. File names come from other people: they only ever go in through textContent
// (el()) and attributes, never as HTML.
import { el } from "./dom.js";

export function formatSize(bytes, locale) {
  const units = [["gigabyte", 1024 ** 3], ["megabyte", 1024 ** 2], ["kilobyte", 1024]];
  for (const [unit, size] of units) {
    if (bytes >= size) return new Intl.NumberFormat(locale, { style: "unit", unit, maximumFractionDigits: 1 }).format(bytes / size);
  }
  return new Intl.NumberFormat(locale, { style: "unit", unit: "byte" }).format(bytes);
}

// POST one file as multipart/form-data; XMLHttpRequest because fetch cannot report upload
// progress. Answers {ok, status, data} like fetchJson; status 0 when the server was not reached.
export function uploadFile({ url, file, headers = {}, withCredentials = false, onProgress = () => {} }) {
  return new Promise((resolve) => {
    const request = new XMLHttpRequest();
    request.open("POST", url);
    request.withCredentials = withCredentials;
    for (const [name, value] of Object.entries(headers)) request.setRequestHeader(name, value);
    request.upload.addEventListener("progress", (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    });
    request.addEventListener("load", () => {
      let data = {};
      try {
        data = JSON.parse(request.responseText || "{}");
      } catch (error) {
        data = {};
      }
      resolve({ ok: request.status >= 200 && request.status < 300, status: request.status, data });
    });
    request.addEventListener("error", () => resolve({ ok: false, status: 0, data: {} }));
    const form = new FormData();
    form.append("file", file, file.name);
    request.send(form);
  });
}

// A message's files: images as a thumbnail that links to the full image, anything else as
// a download link with its name and size.
export function attachmentList(attachments, { locale, imageLabel = "Image: %(name)s" } = {}) {
  if (!attachments || !attachments.length) return null;
  return el("ul", { class: "attachments" }, attachments.map((item) => {
    const size = formatSize(item.size, locale);
    if (item.is_image && item.thumbnail_url && item.download_url) {
      return el("li", { class: "attachment attachment--image" },
        el("a", { href: item.download_url, download: item.name, title: `${item.name} (${size})`, rel: "noopener" },
          el("img", { src: item.thumbnail_url, alt: imageLabel.replace("%(name)s", item.name), loading: "lazy", class: "attachment__thumb" })));
    }
    const name = el("span", { class: "attachment__name", text: item.name });
    const meta = el("span", { class: "attachment__size", text: ` (${size})` });
    return el("li", { class: "attachment attachment--file" },
      item.download_url ? el("a", { href: item.download_url, download: item.name, rel: "noopener" }, name, meta) : el("span", {}, name, meta));
  }));
}

// Files chosen for the next message. `upload(file, onProgress)` returns {ok, data}; `text`
// holds the page's (translated) sentences. Each file shows its name, size and what is
// happening to it; a failed one says why in the server's sentence and can be removed.
export class AttachmentTray {
  constructor({ upload, text, locale, onChange = () => {} }) {
    this.upload = upload;
    this.text = text;
    this.locale = locale;
    this.onChange = onChange;
    this.items = [];
    this.node = el("ul", { class: "attachment-tray", "aria-label": text.tray, "aria-live": "polite", hidden: true });
  }

  add(files) {
    for (const file of files) {
      const item = { file, state: "uploading", id: null, detail: "" };
      item.status = el("span", { class: "attachment-tray__status", text: this.percent(0) });
      item.node = el("li", { class: "attachment-tray__item" },
        el("span", { class: "attachment__name", text: file.name }),
        el("span", { class: "attachment__size", text: ` (${formatSize(file.size, this.locale)}) ` }),
        item.status,
        el("button", { type: "button", class: "attachment-tray__remove", "aria-label": this.text.remove.replace("%(name)s", file.name), text: "×", onclick: () => this.remove(item) }));
      this.items.push(item);
      this.node.append(item.node);
      this.start(item);
    }
    this.render();
  }

  async start(item) {
    const answer = await this.upload(item.file, (share) => {
      item.status.textContent = this.percent(share);
    });
    if (!this.items.includes(item)) return;
    if (answer.ok) {
      item.state = "ready";
      item.id = answer.data.id;
      item.meta = answer.data;
      item.status.textContent = this.text.ready;
    } else {
      item.state = "failed";
      item.node.classList.add("attachment-tray__item--failed");
      item.status.textContent = answer.status === 0 ? this.text.network : (answer.data.detail || this.text.failed);
      item.status.setAttribute("role", "alert");
    }
    this.render();
  }

  percent(share) {
    return this.text.uploading.replace("%(percent)s", new Intl.NumberFormat(this.locale, { style: "percent" }).format(share));
  }

  remove(item) {
    this.items = this.items.filter((other) => other !== item);
    item.node.remove();
    this.render();
  }

  get busy() {
    return this.items.some((item) => item.state === "uploading");
  }

  ready() {
    return this.items.filter((item) => item.state === "ready");
  }

  clear() {
    this.items = [];
    this.node.replaceChildren();
    this.render();
  }

  render() {
    this.node.hidden = this.items.length === 0;
    this.onChange();
  }
}

// Files dropped on `zone` or pasted into `input` go to `tray`.
export function acceptDroppedFiles({ zone, input, tray, enabled = () => true }) {
  zone.addEventListener("dragover", (event) => {
    if (!enabled() || ![...(event.dataTransfer?.types || [])].includes("Files")) return;
    event.preventDefault();
    zone.classList.add("drop-target");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("drop-target"));
  zone.addEventListener("drop", (event) => {
    zone.classList.remove("drop-target");
    if (!enabled() || !event.dataTransfer?.files?.length) return;
    event.preventDefault();
    tray.add([...event.dataTransfer.files]);
  });
  input.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])];
    if (!enabled() || !files.length) return;
    event.preventDefault();
    tray.add(files);
  });
}
