// Attachments for the next message: files and images uploaded at once through
// POST /uploads, and links, within the page's limits.

import { showComposerError } from "./composer.js";
import { clear, el, humanSize, isHttpUrl } from "./dom.js";
import { api, limits, state, ui } from "./state.js";

/** The list of attachments waiting to be sent, each with a Remove button. */
function renderPending() {
  clear(ui.pending);
  state.attachments.forEach((a, i) => {
    ui.pending.append(
      el(
        "li",
        { class: "pending-att" },
        el("span", { text: a.label }),
        " ",
        el("button", {
          type: "button",
          class: "secondary outline small",
          text: "Remove",
          data: { index: i },
          attrs: { "aria-label": `Remove ${a.label}` },
        }),
      ),
    );
  });
  if (state.uploading) ui.pending.append(el("li", { class: "pending-att muted", text: "Uploading…" }));
}

/** Drop every pending attachment and close the link row. */
export function clearAttachments() {
  state.attachments = [];
  ui.linkInput.value = "";
  ui.linkRow.hidden = true;
  ui.linkBtn.setAttribute("aria-expanded", "false");
  renderPending();
}

/** Add the link row's URL (http or https only) as an attachment. */
function addLink() {
  const url = ui.linkInput.value.trim();
  if (!url) return;
  if (!/^https?:\/\//i.test(url) || !isHttpUrl(url)) {
    showComposerError("A link must start with http:// or https://.");
    ui.linkInput.focus();
    return;
  }
  if (state.attachments.length >= limits.attachments) {
    showComposerError(`At most ${limits.attachments} attachments per message.`);
    return;
  }
  state.attachments.push({ kind: "link", url, label: `Link: ${url}` });
  ui.linkInput.value = "";
  ui.linkRow.hidden = true;
  ui.linkBtn.setAttribute("aria-expanded", "false");
  showComposerError("");
  renderPending();
  ui.input.focus();
}

/** Listen to Attach, the file picker, the link row and each Remove button. */
export function init() {
  ui.pending.addEventListener("click", (evt) => {
    const btn = evt.target.closest("button[data-index]");
    if (!btn) return;
    state.attachments.splice(Number(btn.dataset.index), 1);
    renderPending();
    ui.input.focus();
  });

  ui.attachBtn.addEventListener("click", () => ui.fileInput.click());
  ui.fileInput.addEventListener("change", async () => {
    const files = [...ui.fileInput.files];
    ui.fileInput.value = "";
    for (const file of files) {
      if (state.attachments.length + state.uploading >= limits.attachments) {
        showComposerError(`At most ${limits.attachments} attachments per message.`);
        break;
      }
      if (file.size > limits.upload) {
        showComposerError(`${file.name} is too large (at most ${humanSize(limits.upload)}).`);
        continue;
      }
      state.uploading += 1;
      renderPending();
      try {
        const attachment = await api.upload(file);
        state.attachments.push({
          kind: "upload",
          attachment,
          label: `${attachment.type === "image" ? "Image" : "File"}: ${file.name} (${humanSize(attachment.size)})`,
        });
        showComposerError("");
      } catch (err) {
        showComposerError(`Could not upload ${file.name}: ${err.message}`);
      } finally {
        state.uploading -= 1;
        renderPending();
      }
    }
    ui.input.focus();
  });

  ui.linkBtn.addEventListener("click", () => {
    ui.linkRow.hidden = !ui.linkRow.hidden;
    ui.linkBtn.setAttribute("aria-expanded", String(!ui.linkRow.hidden));
    if (!ui.linkRow.hidden) ui.linkInput.focus();
  });

  ui.linkAdd.addEventListener("click", addLink);
  ui.linkInput.addEventListener("keydown", (evt) => {
    if (evt.key === "Enter") {
      evt.preventDefault();
      addLink();
    } else if (evt.key === "Escape") {
      evt.preventDefault();
      ui.linkRow.hidden = true;
      ui.linkBtn.setAttribute("aria-expanded", "false");
      ui.linkBtn.focus();
    }
  });
}
