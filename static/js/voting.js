// Voting on the live page: pairwise duels, dots and 1–5 ratings, and the live ranking.
//
// Uses window.KehittamoLive from live.js (post, fragment, actionOf, reloadPanel, strings). The panel is
// replaced when the phase changes, so every handler is delegated from `document`. Without this script
// the same forms post and the server redirects back to the page.

const live = window.KehittamoLive;
const RANKING_STALE_MS = 15000; // without a push for this long, a shown ranking is fetched (polling pages)
const RATING_DELAY_MS = 400; // arrow keys move through the radios: save where the person stops

function sectionOf(element) {
  return element.closest("[data-voting]");
}

function announce(section, text) {
  const region = section?.querySelector("[data-voting-announce]");
  if (!region || !text) return;
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

function fill(template, values) {
  return (template || "").replace(/%\((\w+)\)s/g, (_match, key) => values[key] ?? "");
}

async function send(form, fields) {
  try {
    return await live.post(live.actionOf(form), fields);
  } catch {
    return { response: null, data: { error: navigator.onLine ? live.strings.failed : live.strings.offlineAction } };
  }
}

/** Disable a form's buttons while it posts; gives back a function that restores them and the focus. */
function hold(form) {
  const buttons = [...form.querySelectorAll("button")];
  const before = buttons.map((button) => button.disabled);
  const focused = document.activeElement;
  buttons.forEach((button) => {
    button.disabled = true;
  });
  form.setAttribute("aria-busy", "true");
  return () => {
    form.removeAttribute("aria-busy");
    buttons.forEach((button, index) => {
      button.disabled = before[index];
    });
    if (focused && form.contains(focused) && !focused.disabled) focused.focus();
  };
}

// --- pairwise duels ----------------------------------------------------------------------------------
let duelBusy = false;

function showTurn(section, data) {
  const root = section.querySelector("[data-duel-root]");
  if (!root) return;
  const form = root.querySelector("[data-duel-form]");
  if (data.duel && form) {
    // Same buttons, new texts: the focus stays where it was and nothing jumps.
    form.querySelector("[data-duel-id]").value = data.duel.id;
    form.querySelector('[data-duel-text="left"]').textContent = data.duel.left.text;
    form.querySelector('[data-duel-text="right"]').textContent = data.duel.right.text;
    const compared = root.querySelector("[data-duel-compared]");
    if (compared) compared.textContent = data.compared_text;
  } else {
    const fresh = live.fragment(data.html);
    root.replaceWith(fresh);
    const target = fresh.querySelector('[data-duel-choice="left"]') || fresh.querySelector("[data-duel-done]");
    target?.focus();
  }
  if (data.duel) {
    announce(section, fill(section.dataset.strNewPair, { first: data.duel.left.text, second: data.duel.right.text }));
  } else {
    announce(section, data.message);
  }
}

const VOTE_SOCKET_MS = 20000; // a vote the socket has not answered by then is posted over HTTP
const SOCKET_STATUSES = [200, 400, 404, 429];

/** A pair answered over the live socket, which knows the voter already: far less work for the server
 * than a POST when a thousand people vote every few seconds. Null when the form must post instead: no
 * open socket, no answer in time, the server's trouble, or no next pair (the post, which changes
 * nothing the second time, brings the panel's "done" part). */
async function voteOverSocket(form, fields) {
  const phase = Number(form.dataset.duelPhase);
  const duel = Number(fields.duel);
  if (!live.askSocket || !Number.isInteger(phase) || !Number.isInteger(duel)) return null;
  const answer = await live.askSocket("vote", { phase, duel, choice: fields.choice }, VOTE_SOCKET_MS);
  if (!answer || !SOCKET_STATUSES.includes(answer.status) || (answer.status === 200 && !answer.duel)) return null;
  return { response: { ok: answer.status === 200 }, data: answer };
}

async function requestTurn(form, fields, overSocket = false) {
  if (duelBusy) return;
  duelBusy = true;
  const section = sectionOf(form);
  const release = hold(form);
  const { response, data } = (overSocket && (await voteOverSocket(form, fields))) || (await send(form, fields));
  release();
  duelBusy = false;
  if (!response || !response.ok) {
    announce(section, data.error || live.strings.failed);
    return;
  }
  showTurn(section, data);
}

function answerDuel(form, choice) {
  const duel = form.querySelector("[data-duel-id]").value;
  // The page already shows a pair: the answer needs only the next pair's texts, not new HTML.
  return requestTurn(form, { duel, choice, has_form: "1" }, true);
}

function startDuels(form) {
  return requestTurn(form, {});
}

const DUEL_KEYS = { 1: "left", 2: "right", 0: "skip" };
document.addEventListener("keydown", (event) => {
  if (!live || event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.repeat) return;
  const choice = DUEL_KEYS[event.key];
  if (!choice) return;
  if (event.target.closest && event.target.closest("input, textarea, select, [contenteditable]")) return;
  const form = document.querySelector("[data-duel-form]");
  if (!form) return;
  const button = form.querySelector(`[data-duel-choice="${choice}"]`);
  if (!button || button.disabled) return;
  event.preventDefault();
  button.focus();
  answerDuel(form, choice);
});

// --- dots ---------------------------------------------------------------------------------------------
async function changeDot(form, action) {
  const section = sectionOf(form);
  const release = hold(form);
  const idea = form.querySelector("input[name=idea]").value;
  const { response, data } = await send(form, { idea, action });
  release();
  if (!response || !response.ok) {
    announce(section, data.error || live.strings.failed);
    return;
  }
  form.querySelector("[data-dot-count]").textContent = data.dots_text;
  const budget = section.querySelector("[data-dots-budget]");
  if (budget) budget.textContent = data.budget_text;
  for (const add of section.querySelectorAll("[data-dot-add]")) add.disabled = data.left <= 0;
  const remove = form.querySelector("[data-dot-remove]");
  remove.disabled = data.dots <= 0;
  if (document.activeElement === document.body || document.activeElement?.disabled) {
    (form.querySelector("button:not([disabled])") || budget)?.focus();
  }
  announce(section, `${data.dots_text}. ${data.budget_text}`);
}

// --- ratings ------------------------------------------------------------------------------------------
const ratingTimers = new WeakMap();

async function saveRating(form) {
  const checked = form.querySelector("input[data-rating]:checked");
  const status = form.querySelector("[data-rating-status]");
  if (!checked) return;
  live.say(status, live.strings.sending);
  const idea = form.querySelector("input[name=idea]").value;
  const { response, data } = await send(form, { idea, value: checked.value });
  if (!response || !response.ok) {
    live.say(status, data.error || live.strings.failed, true);
    return;
  }
  live.say(status, data.message);
}

document.addEventListener("change", (event) => {
  const input = event.target;
  if (!input.matches || !input.matches("input[data-rating]")) return;
  const form = input.closest("[data-rating-form]");
  if (!form) return;
  window.clearTimeout(ratingTimers.get(form));
  ratingTimers.set(
    form,
    window.setTimeout(() => saveRating(form), RATING_DELAY_MS),
  );
});

// --- forms -------------------------------------------------------------------------------------------
document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!live || !sectionOf(form)) return;
  const submitter = event.submitter;
  if (form.matches("[data-duel-form]")) {
    event.preventDefault();
    if (submitter?.dataset.duelChoice) answerDuel(form, submitter.dataset.duelChoice);
  } else if (form.matches("[data-duel-start]")) {
    event.preventDefault();
    startDuels(form);
  } else if (form.matches("[data-dot-form]")) {
    event.preventDefault();
    changeDot(form, submitter?.value === "remove" ? "remove" : "add");
  } else if (form.matches("[data-rating-form]")) {
    event.preventDefault();
    window.clearTimeout(ratingTimers.get(form));
    saveRating(form);
  } else if (form.matches("[data-results-form]")) {
    event.preventDefault();
    const release = hold(form);
    send(form, { action: submitter?.value || "open" }).then(({ response, data }) => {
      release();
      if (response && response.ok) live.reloadPanel();
      else announce(sectionOf(form), data.error || live.strings.failed);
    });
  }
});

// --- the live ranking ----------------------------------------------------------------------------------
let rankingSeenAt = Date.now();

function rankingItem(template, entry) {
  let item = template;
  if (!item) {
    item = document.createElement("li");
    item.className = "ranking-item";
    item.innerHTML =
      '<span class="ranking-rank" data-ranking-rank></span> <span class="ranking-text" data-ranking-text></span> ' +
      '<span class="ranking-score"><span data-ranking-score></span><span class="ranking-uncertainty"> ± ' +
      '<span data-ranking-uncertainty></span></span></span>' +
      '<svg class="ranking-bar" aria-hidden="true" focusable="false" width="100%" height="8">' +
      '<rect data-ranking-bar x="0" y="0" height="8" width="0%"></rect></svg>';
  }
  item.dataset.rankingIdea = String(entry.id);
  return item;
}

function setText(element, text) {
  if (element && element.textContent !== text) element.textContent = text;
}

function updateRanking(data) {
  const panel = document.querySelector(`[data-ranking="${CSS.escape(String(data.phase))}"]`);
  if (!panel) return;
  rankingSeenAt = Date.now();
  setText(panel.querySelector("[data-ranking-votes]"), String(data.votes));
  setText(panel.querySelector("[data-ranking-voters]"), String(data.voters));
  setText(panel.querySelector("[data-ranking-waiting]"), String(data.unranked));
  const list = panel.querySelector("[data-ranking-list]");
  if (!list) return;
  const existing = new Map([...list.children].map((item) => [item.dataset.rankingIdea, item]));
  const sample = list.querySelector(".ranking-item");
  data.top.forEach((entry, index) => {
    let item = existing.get(String(entry.id));
    existing.delete(String(entry.id));
    if (!item) {
      // A copy of a rendered row keeps its translated "Score" label for screen readers.
      item = rankingItem(sample ? sample.cloneNode(true) : null, entry);
    }
    setText(item.querySelector("[data-ranking-rank]"), `${entry.rank}.`);
    setText(item.querySelector("[data-ranking-text]"), entry.text);
    setText(item.querySelector("[data-ranking-score]"), entry.score === null ? "–" : String(Math.round(entry.score)));
    const spread = item.querySelector(".ranking-uncertainty");
    if (spread) {
      spread.hidden = entry.uncertainty === null;
      setText(spread.querySelector("[data-ranking-uncertainty]"), String(Math.round(entry.uncertainty ?? 0)));
    }
    item.querySelector("[data-ranking-bar]")?.setAttribute("width", `${Number(entry.score || 0).toFixed(1)}%`);
    // Moving only the rows whose place changed keeps the rest of the list still.
    if (list.children[index] !== item) list.insertBefore(item, list.children[index] || null);
  });
  for (const gone of existing.values()) gone.remove();
  const empty = panel.querySelector("[data-ranking-empty]");
  if (empty) empty.hidden = data.top.length > 0;
}

async function refreshRanking() {
  const panel = document.querySelector("[data-ranking][data-ranking-url]");
  if (!panel || document.hidden || Date.now() - rankingSeenAt < RANKING_STALE_MS) return;
  rankingSeenAt = Date.now();
  try {
    const response = await fetch(panel.dataset.rankingUrl, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    });
    if (response.ok) updateRanking(await response.json());
  } catch {
    // Offline for a moment: the next push or check brings the ranking.
  }
}

document.addEventListener("live:event", (event) => {
  const { kind, data } = event.detail || {};
  if (kind === "ranking") {
    updateRanking(data);
  } else if (kind === "results.opened" || kind === "results.closed") {
    if (document.querySelector(`[data-voting="${CSS.escape(String(data.phase))}"]`)) live.reloadPanel();
  }
});

if (live) window.setInterval(refreshRanking, 5000);
