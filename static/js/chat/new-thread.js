// The "New thread" dialog: a title, people found through GET /users, then POST /threads
// and open the new thread.

import { openThread } from "./conversation.js";
import { clear, debounce, displayName, el } from "./dom.js";
import { api, limits, me, state, ui } from "./state.js";
import { upsertThread } from "./threads.js";

/** The people picked so far, each with a Remove button. */
function renderPicked() {
  clear(ui.picked);
  for (const u of state.picked.values()) {
    ui.picked.append(
      el(
        "li",
        { class: "picked-user" },
        el("span", { text: `${displayName(u)} (@${u.username})` }),
        " ",
        el("button", {
          type: "button",
          class: "secondary outline small",
          text: "Remove",
          data: { userId: u.id },
          attrs: { "aria-label": `Remove ${displayName(u)}` },
        }),
      ),
    );
  }
  if (!state.picked.size) ui.picked.append(el("li", { class: "muted", text: "Nobody yet." }));
}

let lastResults = [];
/** Offer the users matching the search box (GET /users), less the ones already picked. */
const searchUsers = debounce(async () => {
  const q = ui.userSearch.value.trim();
  clear(ui.userResults);
  if (!q) return;
  try {
    const data = await api.get("/users", { q });
    lastResults = (data.items || []).filter((u) => u.id !== me.id);
    clear(ui.userResults);
    const shown = lastResults.filter((u) => !state.picked.has(u.id));
    if (!shown.length) ui.userResults.append(el("li", { class: "muted", text: "Nobody found." }));
    for (const u of shown) {
      ui.userResults.append(
        el(
          "li",
          {},
          el("button", {
            type: "button",
            class: "user-result secondary outline small",
            text: `Add ${displayName(u)} (@${u.username})`,
            data: { userId: u.id },
          }),
        ),
      );
    }
  } catch (err) {
    ui.newError.textContent = `Could not search: ${err.message}`;
  }
}, 200);

/** Listen to the New thread button and the dialog's search, lists and form. */
export function init() {
  ui.newThreadBtn.addEventListener("click", () => {
    state.picked.clear();
    ui.newForm.reset();
    ui.newError.textContent = "";
    clear(ui.userResults);
    renderPicked();
    ui.dialog.showModal();
    ui.newTitle.focus();
  });
  ui.newCancel.addEventListener("click", () => ui.dialog.close());
  ui.userSearch.addEventListener("input", searchUsers);
  ui.userSearch.addEventListener("keydown", (evt) => {
    if (evt.key === "Enter") {
      evt.preventDefault();
      const first = ui.userResults.querySelector("button[data-user-id]");
      if (first) first.click();
    }
  });
  ui.userResults.addEventListener("click", (evt) => {
    const btn = evt.target.closest("button[data-user-id]");
    if (!btn) return;
    const user = lastResults.find((u) => u.id === btn.dataset.userId);
    if (user) state.picked.set(user.id, user);
    btn.closest("li").remove();
    renderPicked();
    ui.userSearch.value = "";
    clear(ui.userResults);
    ui.userSearch.focus();
  });
  ui.picked.addEventListener("click", (evt) => {
    const btn = evt.target.closest("button[data-user-id]");
    if (!btn) return;
    state.picked.delete(btn.dataset.userId);
    renderPicked();
    ui.userSearch.focus();
  });
  ui.newForm.addEventListener("submit", async (evt) => {
    evt.preventDefault();
    const title = ui.newTitle.value.trim();
    ui.newError.textContent = "";
    if (!title) {
      ui.newError.textContent = "Give the thread a title.";
      ui.newTitle.focus();
      return;
    }
    if (title.length > limits.title) {
      ui.newError.textContent = `A title is at most ${limits.title} characters.`;
      return;
    }
    if (!state.picked.size) {
      ui.newError.textContent = "Add at least one person.";
      ui.userSearch.focus();
      return;
    }
    try {
      const thread = await api.post("/threads", { title, participantIds: [...state.picked.keys()] });
      upsertThread({ unreadCount: 0, lastMessage: null, lastActivityAt: thread.createdAt, ...thread });
      ui.dialog.close();
      openThread(thread.id);
    } catch (err) {
      ui.newError.textContent = err.message;
    }
  });
}
