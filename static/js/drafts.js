// Drafts of long forms: every <form data-draft> keeps what was typed on the server
// (core/drafts.py) so that neither a timeout nor a closed tab loses it. The draft key
// is the path the form posts to; a successful save of the form removes the draft.
// Saving a draft is a background request: it does not count as activity for the
// idle timeout (core/sessions.py). session-timeout.js calls KiJuFaZDrafts.saveAll().
(() => {
  "use strict";

  const AUTOSAVE_MS = 10000;
  const SKIPPED_TYPES = new Set(["hidden", "password", "file", "submit", "button", "reset", "image"]);
  const config = document.getElementById("session-timeout-dialog");
  const bannerTemplate = document.getElementById("draft-banner-template");
  const errorTemplate = document.getElementById("draft-error-template");
  if (!config || !bannerTemplate) {
    return;
  }
  const draftUrl = config.dataset.draftUrl;
  const discardUrl = config.dataset.draftDiscardUrl;
  let stopped = false;

  function post(url, body, keepalive) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      keepalive: Boolean(keepalive),
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": config.dataset.csrfToken,
      },
      body: JSON.stringify(body),
    });
  }

  function fieldsOf(form) {
    return Array.from(form.elements).filter(
      (el) =>
        el.name &&
        el.name !== "csrfmiddlewaretoken" &&
        !el.disabled &&
        ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName) &&
        !SKIPPED_TYPES.has(el.type),
    );
  }

  // Field name → list of values (a name can repeat: checkboxes, multiple selects).
  function snapshot(form) {
    const data = {};
    for (const el of fieldsOf(form)) {
      const values = data[el.name] || (data[el.name] = []);
      if (el.type === "checkbox" || el.type === "radio") {
        if (el.checked) values.push(el.value);
      } else if (el.type === "select-multiple") {
        for (const option of el.selectedOptions) values.push(option.value);
      } else {
        values.push(el.value);
      }
    }
    return data;
  }

  function restore(form, data) {
    const seen = {};
    for (const el of fieldsOf(form)) {
      const values = data[el.name];
      if (!Array.isArray(values)) continue;
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.includes(el.value);
      } else if (el.type === "select-multiple") {
        for (const option of el.options) option.selected = values.includes(option.value);
      } else {
        const index = seen[el.name] || 0;
        seen[el.name] = index + 1;
        if (index < values.length) el.value = values[index];
      }
      el.dispatchEvent(new Event("input", { bubbles: true }));
      el.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }

  // The server keeps JSON objects without their key order: compare sorted.
  function same(a, b) {
    const canonical = (data) => JSON.stringify(Object.keys(data).sort().map((k) => [k, data[k]]));
    return canonical(a) === canonical(b);
  }

  function keyOf(form) {
    return new URL(form.getAttribute("action") || window.location.href, window.location.href)
      .pathname;
  }

  class DraftForm {
    constructor(form) {
      this.form = form;
      this.key = keyOf(form);
      this.initial = snapshot(form);
      this.saved = this.initial; // what the server holds (the empty form: nothing)
      this.submitting = false;
      form.addEventListener("submit", () => {
        this.submitting = true;
      });
    }

    async save(keepalive) {
      if (stopped || this.submitting) return;
      const data = snapshot(this.form);
      if (same(data, this.saved)) return;
      try {
        const response = same(data, this.initial)
          ? await post(discardUrl, { key: this.key }, keepalive)
          : await post(draftUrl, { key: this.key, data }, keepalive);
        if (response.ok) {
          this.saved = data;
          this.showError(null);
        } else if (response.status !== 401) {
          const body = await response.json().catch(() => ({}));
          this.showError(body.error || response.statusText);
        }
      } catch {
        // Offline for a moment: the next round tries again.
      }
    }

    async offerStoredDraft() {
      let draft = null;
      try {
        const response = await fetch(`${draftUrl}?key=${encodeURIComponent(this.key)}`, {
          credentials: "same-origin",
          headers: { Accept: "application/json" },
        });
        if (response.ok) draft = (await response.json()).draft;
      } catch {
        return;
      }
      if (draft && !same(draft.data, snapshot(this.form))) this.showBanner(draft);
    }

    showBanner(draft) {
      const banner = bannerTemplate.content.firstElementChild.cloneNode(true);
      const time = banner.querySelector("[data-draft-time]");
      time.dateTime = draft.updated_at;
      time.textContent = new Date(draft.updated_at).toLocaleString(
        document.documentElement.lang || "de",
        { dateStyle: "medium", timeStyle: "short" },
      );
      banner.querySelector("[data-draft-restore]").addEventListener("click", () => {
        restore(this.form, draft.data);
        this.saved = snapshot(this.form);
        this.closeBanner(banner);
      });
      banner.querySelector("[data-draft-discard]").addEventListener("click", async () => {
        try {
          await post(discardUrl, { key: this.key });
        } catch {
          // The draft is deleted after 30 days anyway.
        }
        this.saved = this.initial;
        this.closeBanner(banner);
      });
      this.form.before(banner);
    }

    closeBanner(banner) {
      banner.remove();
      const first = fieldsOf(this.form).find((el) => el.tagName === "TEXTAREA") || fieldsOf(this.form)[0];
      if (first) first.focus();
    }

    showError(message) {
      const old = this.form.querySelector(".draft-error");
      if (old) old.remove();
      if (message && errorTemplate) {
        const alert = errorTemplate.content.firstElementChild.cloneNode(true);
        alert.querySelector("[data-draft-error]").textContent = message;
        this.form.prepend(alert);
      }
    }
  }

  const drafts = Array.from(document.querySelectorAll("form[data-draft]"), (f) => new DraftForm(f));

  window.KiJuFaZDrafts = {
    saveAll: (keepalive) => Promise.all(drafts.map((d) => d.save(keepalive))),
    // The session is over: later saves would be refused (and sign nobody in again).
    stop: () => {
      stopped = true;
    },
  };

  if (drafts.length === 0) return;
  drafts.forEach((d) => d.offerStoredDraft());
  window.setInterval(() => window.KiJuFaZDrafts.saveAll(false), AUTOSAVE_MS);
  window.addEventListener("beforeunload", () => window.KiJuFaZDrafts.saveAll(true));
})();
