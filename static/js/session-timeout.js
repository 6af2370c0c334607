// The idle-timeout warning (core/sessions.py enforces the timeout on the server).
// <body data-session-timeout data-session-warning data-session-lifetime-left> carry
// the seconds (the lifetime counts from signing in and cannot be extended); the dialog
// (templates/includes/session_timeout.html) appears `warning` seconds before the end
// with a countdown and "Stay signed in". When the time runs out, drafts are saved
// first (drafts.js), then the page is loaded again: the server signs the user out,
// audits why, and sends them to the login page with `next`.
// Typing or clicking in the page is activity: while the user works without sending
// a request, a keep-alive goes out at most once a minute.
(() => {
  "use strict";

  const body = document.body;
  const idleSeconds = parseInt(body.dataset.sessionTimeout, 10);
  const warningSeconds = parseInt(body.dataset.sessionWarning, 10);
  const dialog = document.getElementById("session-timeout-dialog");
  if (!idleSeconds || !dialog || !window.bootstrap) {
    return;
  }
  const stayButton = dialog.querySelector("[data-session-stay]");
  const countdown = dialog.querySelector("[data-session-countdown]");
  const modal = new window.bootstrap.Modal(dialog, { backdrop: "static", keyboard: false });

  const SAVE_BEFORE_END_MS = 3000; // drafts are saved while the session still lives
  const AFTER_END_MS = 1500; // then the page is reloaded once the server has ended it
  const ACTIVITY_KEEPALIVE_MS = Math.min(60000, (idleSeconds * 1000) / 3);

  let idleEnd = Date.now() + idleSeconds * 1000; // this page's request was the last activity
  const lifetimeLeft = parseInt(body.dataset.sessionLifetimeLeft, 10);
  let lifetimeEnd = Number.isNaN(lifetimeLeft) ? Infinity : Date.now() + lifetimeLeft * 1000;
  let lastContact = Date.now();
  let activeSinceContact = false;
  let phase = "running"; // running → checking → warning → ending
  let focusBefore = null; // where the user was typing: focus goes back there

  const end = () => Math.min(idleEnd, lifetimeEnd);

  function adopt(left) {
    const now = Date.now();
    idleEnd = now + left.idle * 1000;
    lifetimeEnd = now + left.lifetime * 1000;
  }

  async function ask(url, method) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRFToken": dialog.dataset.csrfToken },
    });
    if (!response.ok) throw new Error(String(response.status));
    return response.json();
  }

  async function keepAlive() {
    lastContact = Date.now();
    activeSinceContact = false;
    adopt(await ask(dialog.dataset.keepaliveUrl, "POST"));
  }

  function reloadForTheServerToDecide() {
    const here = window.location.pathname + window.location.search;
    window.location.assign(here);
  }

  function formatLeft(ms) {
    const seconds = Math.max(0, Math.ceil(ms / 1000));
    return `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
  }

  function showWarning() {
    const lifetimeEndsFirst = lifetimeEnd <= idleEnd;
    dialog.querySelector("[data-session-reason='idle']").hidden = lifetimeEndsFirst;
    dialog.querySelector("[data-session-reason='lifetime']").hidden = !lifetimeEndsFirst;
    stayButton.hidden = lifetimeEndsFirst;
    countdown.textContent = formatLeft(end() - Date.now());
    phase = "warning";
    focusBefore = document.activeElement;
    modal.show();
  }

  // Bootstrap gives every modal role="dialog"; this one is an alert dialog.
  dialog.addEventListener("shown.bs.modal", () => {
    dialog.setAttribute("role", "alertdialog");
    (stayButton.hidden ? dialog : stayButton).focus();
  });

  dialog.addEventListener("hidden.bs.modal", () => {
    if (focusBefore && document.contains(focusBefore)) focusBefore.focus();
  });

  stayButton.addEventListener("click", async () => {
    try {
      await keepAlive();
    } catch {
      reloadForTheServerToDecide();
      return;
    }
    phase = "running";
    modal.hide();
  });

  async function checkBeforeWarning() {
    phase = "checking";
    try {
      // Another tab may have been active: the server knows the real time left.
      adopt(await ask(dialog.dataset.statusUrl, "GET"));
    } catch {
      reloadForTheServerToDecide();
      return;
    }
    if (end() - Date.now() > warningSeconds * 1000) {
      phase = "running";
    } else {
      showWarning();
    }
  }

  async function finish() {
    phase = "ending";
    const drafts = window.KiJuFaZDrafts;
    if (drafts) {
      await drafts.saveAll(false).catch(() => {});
      drafts.stop();
    }
    window.setTimeout(reloadForTheServerToDecide, Math.max(0, end() - Date.now()) + AFTER_END_MS);
  }

  function tick() {
    const left = end() - Date.now();
    if (phase === "running") {
      if (activeSinceContact && Date.now() - lastContact >= ACTIVITY_KEEPALIVE_MS) {
        keepAlive().catch(() => {});
      } else if (left <= warningSeconds * 1000) {
        checkBeforeWarning();
      }
    } else if (phase === "warning") {
      countdown.textContent = formatLeft(left);
      if (left <= SAVE_BEFORE_END_MS) finish();
    }
  }

  for (const type of ["keydown", "input", "pointerdown"]) {
    document.addEventListener(
      type,
      (event) => {
        if (phase === "running" && !dialog.contains(event.target)) activeSinceContact = true;
      },
      { capture: true, passive: true },
    );
  }
  window.setInterval(tick, 1000);
})();
