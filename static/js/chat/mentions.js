// @mention autocomplete for the composer: a listbox of the open thread's participants.

import { clear, displayName, el } from "./dom.js";

const TOKEN = /(^|\s)@([\w.\-]*)$/;

export class MentionBox {
  /**
   * input: the textarea; list: the <ul role="listbox">; candidates(): the users to offer.
   */
  constructor(input, list, candidates) {
    this.input = input;
    this.list = list;
    this.candidates = candidates;
    this.items = [];
    this.active = -1;
    this.start = -1;

    input.addEventListener("input", () => this.update());
    input.addEventListener("click", () => this.update());
    input.addEventListener("blur", () =>
      setTimeout(() => {
        if (document.activeElement !== input) this.close();
      }, 150),
    );
    list.addEventListener("mousedown", (evt) => {
      // Keep the focus in the textarea while choosing with the mouse.
      evt.preventDefault();
      const opt = evt.target.closest("[role=option]");
      if (opt) this.choose(Number(opt.dataset.index));
    });
  }

  get isOpen() {
    return !this.list.hidden;
  }

  /** Look at the word before the caret; open, refresh or close the list. */
  update() {
    const pos = this.input.selectionStart;
    if (pos !== this.input.selectionEnd) return this.close();
    const before = this.input.value.slice(0, pos);
    const m = TOKEN.exec(before);
    if (!m) return this.close();
    const query = m[2].toLowerCase();
    this.start = pos - m[2].length - 1;
    this.items = this.candidates()
      .filter((u) => {
        const name = displayName(u).toLowerCase();
        return u.username.toLowerCase().startsWith(query) || name.startsWith(query);
      })
      .slice(0, 8);
    if (!this.items.length) return this.close();
    this.active = 0;
    this.render();
  }

  render() {
    clear(this.list);
    this.items.forEach((u, i) => {
      const opt = el(
        "li",
        {
          class: "mention-option",
          attrs: { role: "option", id: `mention-opt-${i}`, "aria-selected": i === this.active ? "true" : "false" },
          data: { index: i },
        },
        el("span", { class: "mention-username", text: `@${u.username}` }),
        " ",
        el("span", { class: "muted", text: displayName(u) !== u.username ? displayName(u) : "" }),
      );
      this.list.append(opt);
    });
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-activedescendant", `mention-opt-${this.active}`);
  }

  close() {
    if (this.list.hidden) return;
    this.list.hidden = true;
    this.items = [];
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  }

  /** Replace the "@que" before the caret with "@username ". */
  choose(index) {
    const user = this.items[index];
    if (!user) return;
    const value = this.input.value;
    const end = this.input.selectionStart;
    const insert = `@${user.username} `;
    this.input.value = value.slice(0, this.start) + insert + value.slice(end);
    const caret = this.start + insert.length;
    this.input.setSelectionRange(caret, caret);
    this.close();
    this.input.dispatchEvent(new Event("input", { bubbles: true }));
    this.input.focus();
  }

  /** Keyboard handling while open; returns true when the key was used. */
  handleKey(evt) {
    if (!this.isOpen) return false;
    if (evt.key === "ArrowDown" || evt.key === "ArrowUp") {
      const n = this.items.length;
      this.active = (this.active + (evt.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.render();
      return true;
    }
    if (evt.key === "Enter" || evt.key === "Tab") {
      this.choose(this.active);
      return true;
    }
    if (evt.key === "Escape") {
      this.close();
      return true;
    }
    return false;
  }
}
