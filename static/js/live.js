// The live workshop page: follows the facilitator, shows comments as they arrive, never loses a typed word.
//
// Writes carry a client-made id (a retry can't duplicate). A comment goes over the open WebSocket, as a
// pairwise vote does, and over HTTP POST when the socket gives no answer; other writes are HTTP POSTs.
// After a reconnect the page asks for every event after the last one it is sure of. Without a socket
// it polls. Drafts and unsent comments are kept in localStorage until the server has them.

const root = document.querySelector("[data-live]");
const strings = JSON.parse(document.getElementById("live-strings").textContent);
const workshopId = root.dataset.workshop;
const isStaff = root.dataset.staff === "1";
const moderatedCases = new Set((root.dataset.moderateCases || "").split(",").filter(Boolean));

const POLL_MS = 4000;
const HEARTBEAT_MS = 25000;
const SAFE_AFTER_MS = 10000; // events can commit out of id order; only older ones are "sure"

// --- small helpers --------------------------------------------------------------------------
const storageKey = (name) => `kehittamo:${workshopId}:${name}`;
function load(name, fallback) {
  try {
    const value = localStorage.getItem(storageKey(name));
    return value ? JSON.parse(value) : fallback;
  } catch {
    return fallback;
  }
}
function save(name, value) {
  try {
    localStorage.setItem(storageKey(name), JSON.stringify(value));
  } catch {
    // Private mode or full storage: the page still works, only reload-survival is lost.
  }
}
function newId() {
  if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
function csrfToken() {
  const input = document.querySelector("input[name=csrfmiddlewaretoken]");
  if (input) return input.value;
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  return match ? decodeURIComponent(match[1]) : "";
}
/** A form's URL; never ``form.action``, which a control named "action" shadows. */
function actionOf(form) {
  return new URL(form.getAttribute("action") || location.href, location.href).href;
}
function fragment(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}
async function post(url, fields) {
  const response = await fetch(url, {
    method: "POST",
    body: new URLSearchParams(fields),
    headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
    credentials: "same-origin",
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  return { response, data };
}
function say(element, text, isError = false) {
  if (!element) return;
  element.textContent = text;
  element.classList.toggle("error-text", isError);
}

// Feature modules loaded after this one use these instead of their own copies.
window.KehittamoLive = {
  root,
  strings,
  post,
  fragment,
  say,
  announce,
  actionOf,
  preserveTyping,
  reloadPanel,
  newId,
  askSocket,
};

// --- who wrote what on this device -------------------------------------------------------------
const own = new Set(load("own", []).map(String));
const reacted = load("reacted", {});
function rememberOwn(id) {
  own.add(String(id));
  save("own", [...own]);
}

function decorate(scope) {
  const items = scope.matches && scope.matches("[data-comment]") ? [scope] : [];
  items.push(...scope.querySelectorAll("[data-comment]"));
  for (const item of items) {
    const id = item.dataset.comment;
    if (item.hasAttribute("data-mine")) own.add(id);
    const article = item.querySelector(":scope > article");
    if (!article) continue;
    const owner = article.querySelector("[data-owner]");
    if (owner) owner.hidden = !own.has(id);
    const moderate = article.querySelector("[data-moderate]");
    if (moderate) moderate.hidden = !(isStaff || moderatedCases.has(item.dataset.case));
    const buttons = article.querySelectorAll("[data-reaction]");
    if (id in reacted) {
      buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.reaction === reacted[id])));
    } else {
      const pressed = [...buttons].find((b) => b.getAttribute("aria-pressed") === "true");
      if (pressed) reacted[id] = pressed.dataset.reaction;
    }
  }
  restoreDrafts(scope);
  restoreSummaries(scope);
}

// --- drafts: what is being typed survives pushes and reloads -----------------------------------
function draftFields(form) {
  const fields = {};
  for (const [name, value] of new FormData(form)) {
    if (name !== "csrfmiddlewaretoken" && name !== "text" && name !== "client_id") fields[name] = value;
  }
  return fields;
}
function labelOf(textarea) {
  const label = textarea.id && document.querySelector(`label[for="${CSS.escape(textarea.id)}"]`);
  return label ? label.textContent.trim() : "";
}
document.addEventListener("input", (event) => {
  const area = event.target;
  if (area.tagName !== "TEXTAREA") return;
  const form = area.closest("form[data-composer]");
  if (!form || !root.contains(form)) return;
  const drafts = load("drafts", {});
  const key = form.dataset.draftKey;
  if (area.value.trim()) {
    drafts[key] = { text: area.value, action: actionOf(form), fields: draftFields(form), label: labelOf(area) };
  } else {
    delete drafts[key];
  }
  save("drafts", drafts);
});
function forgetDraft(key) {
  const drafts = load("drafts", {});
  delete drafts[key];
  save("drafts", drafts);
}
function restoreDrafts(scope) {
  const drafts = load("drafts", {});
  for (const form of scope.querySelectorAll("form[data-composer]")) {
    const draft = drafts[form.dataset.draftKey];
    const area = form.querySelector("textarea");
    if (draft && area && !area.value) {
      area.value = draft.text;
      const details = form.closest("details");
      if (details) details.open = true;
    }
  }
}
function showKeptDrafts() {
  const box = root.querySelector("[data-kept-drafts]");
  const list = root.querySelector("[data-kept-drafts-list]");
  if (!box || !list) return;
  const drafts = load("drafts", {});
  const onPage = new Set([...root.querySelectorAll("form[data-composer]")].map((f) => f.dataset.draftKey));
  let count = 0;
  for (const [key, draft] of Object.entries(drafts)) {
    if (onPage.has(key)) continue;
    count += 1;
    const form = document.createElement("form");
    form.className = "composer";
    form.setAttribute("action", draft.action);
    form.method = "post";
    form.dataset.composer = "";
    form.dataset.draftKey = key;
    form.dataset.kept = "";
    for (const [name, value] of Object.entries(draft.fields)) {
      const input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      input.value = value;
      form.append(input);
    }
    const id = `kept-${key}`;
    const label = document.createElement("label");
    label.htmlFor = id;
    label.textContent = draft.label || strings.keptLabel;
    const area = document.createElement("textarea");
    area.id = id;
    area.name = "text";
    area.rows = 3;
    area.maxLength = 4000;
    area.value = draft.text;
    const row = document.createElement("div");
    row.className = "composer-row";
    const send = document.createElement("button");
    send.type = "submit";
    send.className = "button button-primary";
    send.textContent = strings.send;
    const discard = document.createElement("button");
    discard.type = "button";
    discard.className = "button button-secondary";
    discard.textContent = strings.discard;
    discard.addEventListener("click", () => {
      if (!window.confirm(strings.discardConfirm)) return;
      forgetDraft(key);
      form.remove();
      showKeptDrafts();
    });
    const status = document.createElement("p");
    status.className = "composer-status";
    status.dataset.composerStatus = "";
    status.setAttribute("role", "status");
    row.append(send, discard);
    form.append(label, area, row, status);
    list.append(form);
  }
  box.hidden = count === 0 && list.children.length === 0;
}

const FOCUSABLE = "a[href], button, input, select, textarea, summary, [tabindex]";
/** Where the focused control sits, in words that survive a re-render: its id, or the nearest form with a
 * draft key or ancestor with an id, and its place among that one's focusable controls. */
function focusPlace(container, active) {
  if (!active || active === document.body || !container.contains(active)) return null;
  if (active.id) return { id: active.id };
  const form = active.closest("form[data-draft-key]");
  const anchor = form && container.contains(form) ? form : active.parentElement?.closest("[id]");
  if (!anchor || !container.contains(anchor)) return null;
  const selector = anchor === form ? `form[data-draft-key="${CSS.escape(form.dataset.draftKey)}"]` : null;
  const index = [...anchor.querySelectorAll(FOCUSABLE)].indexOf(active);
  return { anchorId: selector ? null : anchor.id, selector, index };
}
function refocus(place) {
  if (!place || (document.activeElement && document.activeElement !== document.body)) return;
  let target = null;
  if (place.id) {
    target = document.getElementById(place.id);
  } else {
    const anchor = place.selector ? root.querySelector(place.selector) : document.getElementById(place.anchorId);
    target = anchor && place.index >= 0 ? anchor.querySelectorAll(FOCUSABLE)[place.index] : null;
  }
  target?.focus();
}

/** Replace part of the page without disturbing the text field the person is typing in, and without
 * losing a keyboard user's place: the control that had the focus has it again in the new content. */
function preserveTyping(container, replace) {
  const active = document.activeElement;
  const place = focusPlace(container, active);
  let kept = null;
  if (active && active.tagName === "TEXTAREA" && container.contains(active)) {
    const form = active.closest("form[data-composer]");
    kept = {
      key: form ? form.dataset.draftKey : null,
      id: active.id,
      value: active.value,
      start: active.selectionStart,
      end: active.selectionEnd,
    };
  }
  const openReplies = [...container.querySelectorAll("details[open]")].map((d) => d.closest("[data-comment]")?.id);
  replace();
  for (const id of openReplies) {
    const details = id && document.getElementById(id)?.querySelector("details[data-reply]");
    if (details) details.open = true;
  }
  restoreDrafts(container);
  showKeptDrafts();
  if (!kept) {
    refocus(place);
    return;
  }
  let area = kept.key
    ? root.querySelector(`form[data-composer][data-draft-key="${CSS.escape(kept.key)}"] textarea`)
    : document.getElementById(kept.id);
  if (area) {
    if (!area.value) area.value = kept.value;
    const details = area.closest("details");
    if (details) details.open = true;
    area.focus();
    try {
      area.setSelectionRange(kept.start, kept.end);
    } catch {
      // Some inputs don't support selection; focus is what matters.
    }
  }
}

// --- the outbox: a comment is kept on this device until the server confirms it -------------------
let outbox = load("outbox", []);
let flushing = false;
let flushTimer = null;
let flushDelay = 2000;

function renderOutbox() {
  const box = root.querySelector("[data-outbox]");
  const list = root.querySelector("[data-outbox-list]");
  if (!box || !list) return;
  list.replaceChildren(
    ...outbox.map((item) => {
      const li = document.createElement("li");
      li.textContent = item.fields.text;
      return li;
    }),
  );
  box.hidden = outbox.length === 0;
}
function scheduleFlush() {
  clearTimeout(flushTimer);
  flushTimer = setTimeout(flushOutbox, flushDelay * (0.75 + Math.random() / 2));
  flushDelay = Math.min(flushDelay * 2, 30000);
}
function statusFor(item) {
  const form = root.querySelector(`form[data-composer][data-draft-key="${CSS.escape(item.draftKey)}"]`);
  return form ? form.querySelector("[data-composer-status]") : null;
}
function giveBack(item, message) {
  // Refused by the server (e.g. the workshop ended): the text goes back where it was typed.
  const drafts = load("drafts", {});
  drafts[item.draftKey] = {
    text: item.fields.text,
    action: item.action,
    fields: Object.fromEntries(
      Object.entries(item.fields).filter(([name]) => name !== "text" && name !== "client_id"),
    ),
    label: item.label,
  };
  save("drafts", drafts);
  restoreDrafts(root);
  showKeptDrafts();
  say(statusFor(item), message || strings.refused, true);
}
/** Send an outbox item: a comment over the open socket (no HTTP request, no session to load: hundreds of
 * people pressing "send" at once cost the server little), else, or when the socket gives no answer in
 * time or fails on the server, as an HTTP POST. The socket's answer has the POST's status and JSON; a
 * POST after a late answer returns the comment the socket stored (its client id), not a copy. */
async function deliver(item) {
  const answer = item.socket ? await askSocket(item.socket, item.fields) : null;
  if (answer && answer.status < 500) return { status: answer.status, data: answer };
  const { response, data } = await post(item.action, item.fields);
  return { status: response.status, data };
}
async function flushOutbox() {
  if (flushing) return;
  flushing = true;
  try {
    while (outbox.length) {
      const item = outbox[0];
      let result;
      try {
        result = await deliver(item);
      } catch {
        say(statusFor(item), strings.queued);
        setConnection(navigator.onLine ? "reconnecting" : "offline");
        scheduleFlush();
        return;
      }
      const { status, data } = result;
      if (status >= 500 || status === 429 || status === 408) {
        // Kept in the outbox and sent again shortly; a rate limit says so in its own words.
        say(statusFor(item), (status === 429 && data.error) || strings.queued);
        scheduleFlush();
        return;
      }
      outbox = outbox.filter((other) => other.client_id !== item.client_id);
      save("outbox", outbox);
      if (status >= 200 && status < 300 && data.id) {
        rememberOwn(data.id);
        placeComment(data);
        say(statusFor(item), strings.sent);
      } else {
        giveBack(item, data.error);
      }
    }
    flushDelay = 2000;
  } finally {
    flushing = false;
    renderOutbox();
  }
}

function submitComposer(form) {
  const area = form.querySelector("textarea");
  const status = form.querySelector("[data-composer-status]");
  if (!area.value.trim()) {
    say(status, strings.empty, true);
    area.focus();
    return;
  }
  const fields = draftFields(form);
  const item = {
    client_id: newId(),
    action: actionOf(form),
    draftKey: form.dataset.draftKey,
    label: labelOf(area),
    socket: form.dataset.socket || "",
    fields: { ...fields, text: area.value, client_id: "" },
  };
  item.fields.client_id = item.client_id;
  outbox.push(item);
  save("outbox", outbox);
  forgetDraft(item.draftKey);
  area.value = "";
  const anonymous = form.querySelector("[name=anonymous]");
  if (anonymous) anonymous.checked = false;
  say(status, strings.sending);
  if (form.hasAttribute("data-kept")) {
    form.remove();
    showKeptDrafts();
  }
  renderOutbox();
  flushOutbox();
}

// --- placing comments -----------------------------------------------------------------------
const commentTemplate = document.getElementById("comment-template");
const standIns = commentTemplate ? JSON.parse(commentTemplate.dataset.standIns) : {};
const standInPattern = new RegExp(Object.values(standIns).join("|") || "$^", "g");

/** A pushed comment's list item: the page's template of a comment with the comment's ids in place of the
 * stand-ins, its text and meta (``data.html``, the only part that is rendered per comment), counts and state.
 * An idea, or a comment's event stored before pushes were cut to that part, carries its whole item. */
function commentElement(data) {
  const main = fragment(data.html);
  if (!main || !main.matches("[data-part=main]") || !commentTemplate) return main;
  const item = commentTemplate.content.firstElementChild.cloneNode(true);
  const values = {};
  for (const [name, standIn] of Object.entries(standIns)) values[standIn] = String(data[name] ?? "");
  for (const element of [item, ...item.querySelectorAll("*")]) {
    for (const attribute of element.attributes) {
      const value = attribute.value.replace(standInPattern, (standIn) => values[standIn]);
      if (value !== attribute.value) attribute.value = value;
    }
  }
  item.querySelector(":scope > article [data-part=main]").replaceWith(main);
  if (data.parent) {
    item.querySelector(":scope > article [data-reply]")?.remove();
    item.querySelector(":scope > [data-replies]")?.remove();
  }
  if (data.removed) item.querySelector(":scope > article .comment-actions")?.remove();
  const edit = item.querySelector(":scope > article [data-edit] textarea");
  if (edit) edit.textContent = data.text || "";
  for (const button of item.querySelectorAll(":scope > article [data-reaction]")) {
    button.querySelector("[data-count]").textContent = String(data.counts?.[button.dataset.reaction] ?? 0);
  }
  item.classList.toggle("is-hidden", Boolean(data.hidden));
  item.querySelector(":scope > article [data-hide]")?.toggleAttribute("hidden", Boolean(data.hidden));
  item.querySelector(":scope > article [data-unhide]")?.toggleAttribute("hidden", !data.hidden);
  return item;
}
function placeComment(data) {
  if (!data.html) return;
  // Ideas use the same composer and outbox; their elements are called "idea-<id>".
  const existing = document.getElementById(data.dom_id || `comment-${data.id}`);
  if (existing) return;
  const container = data.parent
    ? document.querySelector(`#comment-${data.parent} > [data-replies]`)
    : root.querySelector(`[data-thread-list="${CSS.escape(data.thread)}"]`);
  if (!container) {
    if (data.parent && root.querySelector(`[data-thread-list="${CSS.escape(data.thread)}"]`)) {
      reloadThreads(data.thread.slice(1).split("-")[0]);
    }
    return;
  }
  const element = commentElement(data);
  container.append(element);
  decorate(element);
}
function replaceMain(data) {
  const item = document.getElementById(`comment-${data.id}`);
  const main = item && item.querySelector(":scope > article [data-part=main]");
  if (!main || !data.html) return;
  main.replaceWith(fragment(data.html));
}
function removeComment(data) {
  const item = document.getElementById(`comment-${data.id}`);
  if (!item) return;
  const replies = item.querySelector(":scope > [data-replies]");
  if (replies && replies.children.length) {
    replaceMain(data);
    item.querySelector(":scope > article .comment-actions")?.remove();
  } else {
    item.remove();
  }
}
function hideComment(id) {
  const item = document.getElementById(`comment-${id}`);
  if (!item) return;
  if (!isStaff) {
    item.remove();
    return;
  }
  item.classList.add("is-hidden");
  item.querySelector(":scope > article [data-hide]")?.setAttribute("hidden", "");
  item.querySelector(":scope > article [data-unhide]")?.removeAttribute("hidden");
  const meta = item.querySelector(":scope > article .comment-meta");
  if (meta && !meta.querySelector(".badge")) {
    const badge = document.createElement("span");
    badge.className = "badge badge-danger";
    badge.textContent = strings.hiddenBadge;
    meta.append(" ", badge);
  }
}
function showComment(data) {
  const item = document.getElementById(`comment-${data.id}`);
  if (!item) {
    placeComment(data);
    return;
  }
  item.classList.remove("is-hidden");
  item.querySelector(":scope > article [data-hide]")?.removeAttribute("hidden");
  item.querySelector(":scope > article [data-unhide]")?.setAttribute("hidden", "");
  item.querySelector(":scope > article .comment-meta .badge")?.remove();
}
function updateCounts(data, mine) {
  const item = document.getElementById(`comment-${data.id}`);
  if (!item) return;
  for (const button of item.querySelectorAll(":scope > article [data-reaction]")) {
    const count = button.querySelector("[data-count]");
    if (count) count.textContent = String(data.counts[button.dataset.reaction] ?? 0);
    if (mine !== undefined) button.setAttribute("aria-pressed", String(button.dataset.reaction === mine));
  }
}

// --- panel, threads, timer, broadcast ------------------------------------------------------------
let panelLoading = null;
/** "?show=N" when the person asked for earlier comments: a reload keeps showing as many. */
function showParam() {
  const show = new URLSearchParams(location.search).get("show");
  return show ? `?show=${encodeURIComponent(show)}` : "";
}
async function reloadPanel() {
  if (panelLoading) return panelLoading;
  panelLoading = (async () => {
    const slot = root.querySelector("[data-panel-slot]");
    if (!slot) return;
    const response = await fetch(root.dataset.panelUrl + showParam(), { credentials: "same-origin" });
    if (!response.ok) return;
    showPanel(slot, await response.text());
  })().finally(() => {
    panelLoading = null;
  });
  return panelLoading;
}
function showPanel(slot, html) {
  preserveTyping(slot, () => {
    slot.innerHTML = html;
  });
  decorate(slot);
  showKeptDrafts();
}
/** A plain participant's page shows the panel that came with the phase: a thousand screens need not all
 * ask for it at once. It is everyone's copy: this page fills in its own CSRF token, and decorate() marks
 * its own comments and reactions. Anyone else (staff, a presenter, "Show earlier") asks for their own. */
function phasePanel(data) {
  const slot = root.querySelector("[data-panel-slot]");
  if (slot && data.panel && root.dataset.sharedPanel === "1" && !showParam() && !panelLoading) {
    showPanel(slot, data.panel.replaceAll(root.dataset.csrfSlot, csrfToken()));
    return;
  }
  // A little spread so hundreds of screens do not ask at the same millisecond.
  window.setTimeout(reloadPanel, Math.random() * 250);
}
/** When a round starts, the server pushes each room its members' panel right after the round's frame
 * (``round.panel``), in the order it renders the rooms: a page that shows the shared panel waits for its room's
 * (at most ``data.panels`` seconds) instead of a thousand pages each asking for theirs at once. When a round
 * ends, its frame carries the panel everyone sees until the next. Any other page, or one whose push does not
 * come, asks for its panel as before. */
const roundPanels = new Map(); // round number -> this room's pushed panel
let roundWait = null;
function roundChanged(data) {
  clearTimeout(roundWait?.timer);
  roundWait = null;
  const pushed = roundPanels.get(data.round);
  roundPanels.clear();
  if (pushed !== undefined) {
    phasePanel({ panel: pushed });
  } else if (data.open && data.panels && root.dataset.sharedPanel === "1") {
    roundWait = { round: data.round, timer: window.setTimeout(() => phasePanel({}), data.panels * 1000) };
  } else {
    phasePanel(data); // a round's end carries what everyone sees until the next one
  }
}
function roundPanelPushed(data) {
  if (!data.panel) return;
  if (roundWait && roundWait.round === data.round) {
    clearTimeout(roundWait.timer);
    roundWait = null;
    phasePanel(data);
  } else {
    roundPanels.set(data.round, data.panel); // came before the round's own frame
  }
}
async function reloadThreads(phaseId) {
  const url = root.dataset.threadsUrl.replace(/\/0\/$/, `/${phaseId}/`) + showParam();
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) return;
  const data = await response.json();
  for (const [key, html] of Object.entries(data.threads)) {
    const list = root.querySelector(`[data-thread-list="${CSS.escape(key)}"]`);
    if (!list) continue;
    preserveTyping(list, () => {
      list.innerHTML = html;
    });
    decorate(list);
  }
}

const timer = {
  element: root.querySelector("[data-timer]"),
  deadline: null,
  remaining: null,
  warned: false,
  ended: false,
};
let clockOffset = 0; // server time minus this device's time
function noteServerTime(iso) {
  const server = Date.parse(iso);
  if (!Number.isNaN(server)) clockOffset = server - Date.now();
}
function formatSeconds(total) {
  const seconds = Math.max(0, Math.round(total));
  const minutes = Math.floor(seconds / 60);
  return `${minutes}:${String(seconds % 60).padStart(2, "0")}`;
}
function announce(text) {
  const region = root.querySelector("[data-timer-announce]");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}
function setTimer(data, quiet = false) {
  timer.deadline = data.deadline ? Date.parse(data.deadline) : null;
  timer.remaining = data.remaining ?? null;
  const left = secondsLeft();
  timer.warned = left !== null && left <= 60;
  timer.ended = left !== null && left <= 0;
  if (timer.deadline && !quiet) announce(strings.timerStarted.replace("%s", formatSeconds(left)));
  renderTimer();
}
function secondsLeft() {
  if (timer.deadline) return (timer.deadline - (Date.now() + clockOffset)) / 1000;
  if (timer.remaining !== null && timer.remaining !== "") return Number(timer.remaining);
  return null;
}
function renderTimer() {
  if (!timer.element) return;
  const display = timer.element.querySelector("[data-timer-display]");
  const state = timer.element.querySelector("[data-timer-state]");
  const left = secondsLeft();
  timer.element.classList.toggle("is-idle", left === null);
  if (left === null) {
    display.textContent = "–";
    state.textContent = "";
    timer.element.classList.remove("is-warning", "is-over");
    return;
  }
  display.textContent = formatSeconds(left);
  state.textContent = timer.deadline ? "" : strings.paused;
  timer.element.classList.toggle("is-warning", left <= 60 && left > 0);
  timer.element.classList.toggle("is-over", left <= 0);
  if (timer.deadline && left <= 60 && left > 0 && !timer.warned) {
    timer.warned = true;
    announce(strings.oneMinute);
  }
  if (timer.deadline && left <= 0 && !timer.ended) {
    timer.ended = true;
    announce(strings.timeUp);
  }
}
function showBroadcast(data) {
  const region = root.querySelector("[data-broadcast-region]");
  if (!region) return;
  if (!data.text) {
    region.replaceChildren();
    return;
  }
  const box = document.createElement("div");
  box.className = "broadcast";
  const paragraph = document.createElement("p");
  const title = document.createElement("strong");
  title.textContent = `${strings.broadcastTitle}: `;
  const text = document.createElement("span");
  text.dataset.broadcastText = "";
  text.textContent = data.text;
  paragraph.append(title, text);
  box.append(paragraph);
  region.replaceChildren(box);
}
function updateStats(data) {
  for (const [name, value] of Object.entries(data)) {
    const element = root.querySelector(`[data-stat="${name}"]`);
    if (element) element.textContent = String(value);
  }
}
let closedForGood = false;
const REFUSED = 4403; // facilitation/consumers.py: this browser may no longer see the workshop
function workshopClosed() {
  closedForGood = true;
  setConnection("closed");
  showBroadcast({ text: strings.closed });
  for (const control of root.querySelectorAll("[data-panel-slot] textarea, [data-panel-slot] button")) {
    control.disabled = true;
  }
  if (ws) ws.close();
}

// --- small-group rooms: the leader's summary, calls for help, the facilitator's overview ---------------
const OVERVIEW_KINDS = new Set([
  "comment.created",
  "comment.edited",
  "comment.deleted",
  "comment.hidden",
  "items.hidden",
  "room.summary",
  "room.help",
  "rooms.changed",
  "round",
  "stats",
]);
let overviewTimer = null;
function scheduleOverview() {
  const url = root.dataset.overviewUrl;
  if (!url) return;
  clearTimeout(overviewTimer);
  overviewTimer = setTimeout(async () => {
    const slot = root.querySelector("[data-overview-slot]");
    const response = await fetch(url, { credentials: "same-origin" });
    if (!slot || !response.ok) return;
    const html = await response.text();
    preserveTyping(slot, () => {
      slot.innerHTML = html;
    });
  }, 400);
}
// The summary being written is kept on this device until the server has it: a refusal (the rate limit,
// a lost connection, a server error) keeps it, says so and tries again later; a reload or a new panel puts
// it back in its box. Kept per room as { action, text }.
const SUMMARY_RETRY_MS = 5000;
let summaryTimer = null;
let summaryDelay = SUMMARY_RETRY_MS;
let summaryHeldUntil = 0; // after a refusal, typing does not send again before this time
const summaryForm = (room) => root.querySelector(`[data-summary-form][data-room="${CSS.escape(String(room))}"]`);
function keepSummary(form) {
  const kept = load("summaries", {});
  kept[form.dataset.room] = { action: actionOf(form), text: form.querySelector("textarea").value };
  save("summaries", kept);
}
function forgetSummary(room, text) {
  const kept = load("summaries", {});
  if (kept[room] && kept[room].text === text) {
    delete kept[room];
    save("summaries", kept);
  }
}
function markRefused(room, text) {
  const kept = load("summaries", {});
  if (kept[room] && kept[room].text === text) {
    kept[room].refused = true;
    save("summaries", kept);
  }
}
const waitingSummaries = (kept) => Object.keys(kept).filter((room) => !kept[room].refused);
function showSummary(data) {
  const area = root.querySelector(`[data-summary-form][data-room="${data.room}"] textarea`);
  const unsaved = load("summaries", {})[data.room];
  if (area && document.activeElement !== area && !unsaved) area.value = data.text;
}
function scheduleSummary(room, wait) {
  clearTimeout(summaryTimer);
  summaryTimer = setTimeout(() => {
    summaryTimer = null;
    saveSummary(room);
  }, Math.max(wait, summaryHeldUntil - Date.now()));
}
function retrySummary(room) {
  const wait = summaryDelay * (0.75 + Math.random() / 2);
  summaryHeldUntil = Date.now() + wait;
  summaryDelay = Math.min(summaryDelay * 2, 30000);
  scheduleSummary(room, wait);
}
async function saveSummary(room) {
  const form = summaryForm(room);
  if (form) keepSummary(form);
  const kept = load("summaries", {})[room];
  if (!kept) return;
  const status = form && form.querySelector("[data-summary-status]");
  try {
    const { response, data } = await post(kept.action, { text: kept.text });
    if (response.status === 429 || response.status === 408 || response.status >= 500) {
      say(status, (response.status === 429 && data.error) || strings.summaryOffline, true);
      retrySummary(room);
      return;
    }
    summaryDelay = SUMMARY_RETRY_MS;
    summaryHeldUntil = 0;
    if (response.ok) {
      forgetSummary(room, kept.text);
      say(status, strings.summarySaved.replace("%s", data.saved));
      const next = waitingSummaries(load("summaries", {})).find((other) => other !== room);
      if (next) scheduleSummary(next, 1000); // another room's summary kept from an earlier round
    } else {
      // Refused for good (the room closed, no longer the leader): the text stays in its box and on this
      // device, but is not sent again by itself; typing or "Save" tries again.
      markRefused(room, kept.text);
      say(status, data.error || strings.failed, true);
    }
  } catch {
    say(status, strings.summaryOffline, true);
    retrySummary(room);
  }
}
/** Put back a summary this device has not yet saved (after a reload or a new panel), and save it. */
function restoreSummaries(scope) {
  const kept = load("summaries", {});
  for (const form of scope.querySelectorAll("[data-summary-form]")) {
    const unsaved = kept[form.dataset.room];
    const area = form.querySelector("textarea");
    if (unsaved && area.value !== unsaved.text && document.activeElement !== area) area.value = unsaved.text;
  }
  const waiting = waitingSummaries(kept);
  if (waiting.length && !summaryTimer) scheduleSummary(waiting[0], 1000);
}
document.addEventListener("input", (event) => {
  const form = event.target.closest && event.target.closest("[data-summary-form]");
  if (!form) return;
  keepSummary(form);
  scheduleSummary(form.dataset.room, 1000);
});

// --- events: one path for pushes, catch-up and polling ---------------------------------------------
const seen = new Set();
let sureId = Number(root.dataset.lastEvent || 0); // every event up to here has been applied
const recent = []; // [id, receivedAt] of events newer than sureId

function watermark() {
  const now = Date.now();
  while (recent.length && now - recent[0][1] > SAFE_AFTER_MS) {
    sureId = Math.max(sureId, recent.shift()[0]);
  }
  return sureId;
}
function apply(event) {
  if (event.now) noteServerTime(event.now);
  if (event.id !== null && event.id !== undefined) {
    if (seen.has(event.id) || event.id <= sureId) return;
    seen.add(event.id);
    recent.push([event.id, Date.now()]);
  }
  const data = event.data || {};
  switch (event.kind) {
    case "comment.created":
      placeComment(data);
      break;
    case "comment.shown":
      showComment(data);
      break;
    case "comment.edited":
      replaceMain(data);
      break;
    case "comment.deleted":
      removeComment(data);
      break;
    case "comment.hidden":
      hideComment(data.id);
      break;
    case "items.hidden": // many hidden at once by the facilitator: one event (ideas.js takes the ideas)
      for (const id of data.comments || []) hideComment(id);
      break;
    case "comment.mine": {
      rememberOwn(data.id);
      const item = document.getElementById(`comment-${data.id}`);
      if (item) decorate(item);
      break;
    }
    case "reaction":
      updateCounts(data);
      break;
    case "phase": {
      const title = root.querySelector("[data-current-phase-title]");
      if (title) title.textContent = data.title || "–";
      phasePanel(data);
      break;
    }
    case "timer":
      setTimer(data);
      break;
    case "broadcast":
      if (!(data.room && isStaff)) showBroadcast(data);
      break;
    case "thread.reload":
      reloadThreads(data.phase);
      break;
    case "round":
      roundChanged(data);
      break;
    case "round.panel":
      roundPanelPushed(data);
      break;
    case "rooms.changed":
      window.setTimeout(reloadPanel, Math.random() * 250);
      break;
    case "room.summary":
      showSummary(data);
      break;
    case "room.help":
      say(root.querySelector("[data-help-status]"), data.open ? strings.helpCalled : strings.helpComing);
      if (data.open) say(root.querySelector("[data-overview-alert]"), strings.roomCalls.replace("%s", data.label));
      break;
    case "stats":
      updateStats(data);
      break;
    case "workshop.closed":
      workshopClosed();
      break;
    case "resync":
      // The server's live feed was interrupted: fetch what may have been missed (spread, so a
      // thousand pages do not ask at the same millisecond), and stop the polling that stood in for it.
      feedPaused = false;
      if (ws && ws.readyState === WebSocket.OPEN) {
        stopPolling();
        setConnection("live");
      }
      window.setTimeout(() => catchUp().catch(catchUpLater), Math.random() * 1000);
      break;
    case "live.paused":
      // The socket is open but the server's live feed is away (Redis): poll until it says "resync".
      feedPaused = true;
      startPolling();
      break;
    case "idea.created":
      placeComment(data);
      break;
    default:
      break;
  }
  if (OVERVIEW_KINDS.has(event.kind)) scheduleOverview();
  // Feature modules (ideas.js, voting.js, bigscreen.js …) follow the same events.
  document.dispatchEvent(new CustomEvent("live:event", { detail: event }));
}

let catchingUp = false;
let catchUpRetry = null;
let catchUpDelay = 2000;
/** Try the catch-up again later: a catch-up that failed (server or database briefly away) must not be
 * the last one, or the events between the socket's drop and its return would stay missing. */
function catchUpLater() {
  clearTimeout(catchUpRetry);
  catchUpRetry = window.setTimeout(() => catchUp().catch(catchUpLater), catchUpDelay * (0.5 + Math.random()));
  catchUpDelay = Math.min(catchUpDelay * 2, 30000);
}
/** Questions asked on the socket ("catchup", "comment", "vote"), by the number their answers repeat. */
const asked = new Map();
let lastAsk = 0;
const SOCKET_ANSWER_MS = 5000;
function answered(ask, body) {
  const question = asked.get(ask);
  if (!question) return;
  asked.delete(ask);
  clearTimeout(question.timer);
  question.resolve(body);
}
/** Ask the server on the open socket: no HTTP request and no session to load, so a thousand pages asking
 * at once cost the server little. Resolves to the answer, or to null when the socket is not open, closes
 * or gives no answer within ``timeout`` ms: the caller then asks over HTTP. */
function askSocket(type, fields, timeout = SOCKET_ANSWER_MS) {
  if (!ws || ws.readyState !== WebSocket.OPEN) return Promise.resolve(null);
  lastAsk += 1;
  const ask = lastAsk;
  return new Promise((resolve) => {
    asked.set(ask, { resolve, timer: window.setTimeout(() => answered(ask, null), timeout) });
    ws.send(JSON.stringify({ ...fields, type, ask }));
  });
}
/** One page of the events after the watermark: over the open socket (see askSocket), else, or when the
 * socket gives no answer in time, over the events endpoint. Null when that failed (and is retried). */
async function eventsPage(poll) {
  if (!poll) {
    const body = await askSocket("catchup", { after: watermark() });
    if (body) return body;
  }
  const url = `${root.dataset.eventsUrl}?after=${watermark()}${poll ? "&poll=1" : ""}`;
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
  if (!response.ok) {
    if (response.status >= 500 || response.status === 429 || response.status === 408) catchUpLater();
    return null;
  }
  return response.json();
}
let catchUpAgain = false;
async function catchUp(poll = false) {
  if (catchingUp) {
    // One under way may have asked before the socket came back: ask once more when it is done.
    catchUpAgain = catchUpAgain || !poll;
    return;
  }
  catchingUp = true;
  try {
    for (let page = 0; page < 20; page += 1) {
      const body = await eventsPage(poll);
      if (!body) return;
      clearTimeout(catchUpRetry);
      catchUpDelay = 2000;
      body.events.forEach(apply);
      if (body.stats) updateStats(body.stats);
      if (body.status && body.status !== "live") {
        workshopClosed();
        return;
      }
      if (!body.more) return;
      // More than a page behind: take the newest state wholesale, then continue from it.
      await reloadPanel();
    }
  } finally {
    catchingUp = false;
    if (catchUpAgain) {
      catchUpAgain = false;
      window.setTimeout(() => catchUp().catch(catchUpLater), 0);
    }
  }
}

// --- connection: WebSocket with back-off, polling when it can't be had --------------------------
let ws = null;
let attempts = 0;
let failures = 0;
let heartbeat = null;
let pollTimer = null;
let feedPaused = false; // the server said its live feed is away: poll although the socket is open

function setConnection(state) {
  const element = root.querySelector("[data-connection]");
  if (!element || element.dataset.state === state) return;
  element.dataset.state = state;
  element.textContent = strings[`connection_${state}`] || "";
}
function startPolling() {
  if (pollTimer || closedForGood) return;
  setConnection("polling");
  const tick = async () => {
    try {
      await catchUp(true);
      if (feedPaused || !ws || ws.readyState !== WebSocket.OPEN) setConnection("polling");
    } catch {
      setConnection(navigator.onLine ? "reconnecting" : "offline");
    }
  };
  tick();
  pollTimer = setInterval(tick, POLL_MS);
}
function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}
function connect() {
  if (closedForGood) return;
  if (typeof window.WebSocket !== "function") {
    startPolling();
    return;
  }
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  let opened = false;
  try {
    ws = new WebSocket(scheme + location.host + root.dataset.wsPath);
  } catch {
    failures += 1;
    reconnectLater();
    return;
  }
  ws.addEventListener("open", () => {
    opened = true;
    attempts = 0;
    failures = 0;
    feedPaused = false;
    stopPolling();
    setConnection("live");
    catchUp().catch(catchUpLater);
    flushOutbox();
    clearInterval(heartbeat);
    heartbeat = setInterval(() => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: "ping" }));
    }, HEARTBEAT_MS);
  });
  ws.addEventListener("message", (message) => {
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      return;
    }
    if (event.kind === "catchup" || event.kind === "vote" || event.kind === "comment") answered(event.ask, event);
    else if (event.kind !== "pong") apply(event);
  });
  ws.addEventListener("close", (event) => {
    clearInterval(heartbeat);
    ws = null;
    [...asked.keys()].forEach((ask) => answered(ask, null)); // questions under way go over HTTP instead
    if (closedForGood) return;
    if (opened && event.code === REFUSED) {
      // The server shut this browser out (its link was revoked or its data erased): the reload shows why.
      closedForGood = true;
      window.location.reload();
      return;
    }
    if (!opened) failures += 1;
    reconnectLater();
  });
}
function reconnectLater() {
  setConnection(navigator.onLine ? "reconnecting" : "offline");
  if (failures >= 3) startPolling();
  // Capped at 5 s: after a server restart every page is back within seconds of the server (polling
  // covers a longer outage after three failures; the jitter spreads a thousand pages' attempts).
  const delay = Math.min(5000, 1000 * 2 ** attempts) * (0.5 + Math.random());
  attempts += 1;
  window.setTimeout(connect, delay);
}
window.addEventListener("online", () => {
  flushDelay = 2000;
  flushOutbox();
  if (!ws) {
    attempts = 0;
    connect();
  } else if (ws.readyState === WebSocket.OPEN) {
    // The socket outlived the outage: say so, and fetch what it may have missed meanwhile.
    setConnection(feedPaused ? "polling" : "live");
    catchUp().catch(catchUpLater);
  }
});
window.addEventListener("offline", () => setConnection("offline"));

// --- forms ----------------------------------------------------------------------------------------
function formError(form, message) {
  let element = form.querySelector("[data-form-error]");
  if (!element) {
    element = document.createElement("p");
    element.dataset.formError = "";
    element.className = "error-text";
    element.setAttribute("role", "alert");
    form.append(element);
  }
  element.textContent = message || strings.failed;
}
async function submitJson(form, fields, onDone) {
  try {
    const { response, data } = await post(actionOf(form), fields);
    if (!response.ok) {
      formError(form, data.error);
      return;
    }
    form.querySelector("[data-form-error]")?.remove();
    onDone(data);
  } catch {
    formError(form, strings.offlineAction);
  }
}
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!root.contains(form)) return;
  const submitter = event.submitter;
  if (form.matches("[data-composer]")) {
    event.preventDefault();
    submitComposer(form);
  } else if (form.matches("[data-edit]")) {
    event.preventDefault();
    const area = form.querySelector("textarea");
    submitJson(form, { text: area.value }, (data) => {
      replaceMain(data);
      form.closest("details").open = false;
    });
  } else if (form.matches("[data-delete]")) {
    event.preventDefault();
    if (!window.confirm(submitter?.dataset.confirm || strings.deleteConfirm)) return;
    submitJson(form, {}, removeComment);
  } else if (form.matches("[data-react]")) {
    event.preventDefault();
    const item = form.closest("[data-comment]");
    submitJson(form, { kind: submitter?.value || "" }, (data) => {
      reacted[item.dataset.comment] = data.mine;
      save("reacted", reacted);
      updateCounts(data, data.mine);
    });
  } else if (form.matches("[data-summary-form]")) {
    event.preventDefault();
    clearTimeout(summaryTimer);
    saveSummary(form.dataset.room);
  } else if (form.matches("[data-help-form]")) {
    event.preventDefault();
    submitJson(form, { action: "call" }, () => say(form.querySelector("[data-help-status]"), strings.helpCalled));
  } else if (form.matches("[data-moderate]")) {
    event.preventDefault();
    const action = submitter?.value || "hide";
    submitJson(form, { action }, (data) => (action === "hide" ? hideComment(data.id) : showComment(data)));
  }
});

// --- start ----------------------------------------------------------------------------------------
const initialTimer = timer.element;
if (initialTimer) {
  const now = initialTimer.dataset.now;
  if (now) noteServerTime(now);
  const initial = { deadline: initialTimer.dataset.deadline || null, remaining: initialTimer.dataset.remaining || null };
  setTimer(initial, true);
}
decorate(root);
showKeptDrafts();
renderOutbox();
window.setInterval(renderTimer, 250);
if (outbox.length) flushOutbox();
connect();
