// The big screen: the ranking, the numbers and the join code, large, kept up to date without flicker.
//
// live.js runs the connection (socket, catch-up, polling) and dispatches every event as "live:event".
// Rows are updated in place, keyed by idea id, and moved (FLIP) when their order changes; nothing is
// re-rendered wholesale. "ranking" pushes are not stored, so after a reconnect, on a phase change and
// while polling the page asks data.json for the figures as they are now.

const root = document.querySelector("[data-bigscreen]");
const strings = JSON.parse(document.getElementById("bigscreen-strings").textContent);
const TOP = 10;
const POLL_MS = 5000; // only while live.js has no socket
const SAFETY_MS = 30000; // pushes may be lost (the channel layer is allowed to lose them)
const MOVE_MS = 600;

const reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
let phaseId = root.dataset.phase || "";
let leaderId = null;

const $ = (selector) => root.querySelector(selector);
const format = (template, values) => template.replace(/%\((\w+)\)s/g, (_, name) => String(values[name] ?? ""));
const plural = (count, one, other) => format(count === 1 ? one : other, { counter: count });

function setText(element, text) {
  if (element && element.textContent !== text) element.textContent = text;
}
function setHidden(element, hidden) {
  if (element && element.hidden !== hidden) element.hidden = hidden;
}
function announce(text) {
  const region = $("[data-bs-announce]");
  if (!region) return;
  region.textContent = "";
  window.setTimeout(() => {
    region.textContent = text;
  }, 50);
}

// --- the ranking -----------------------------------------------------------------------------------
function scoreText(score) {
  return score === null || score === undefined ? "–" : String(Math.round(score));
}
function setBar(row, score) {
  const fill = row.querySelector("[data-bs-bar]");
  if (!fill) return;
  const fraction = Math.max(0, Math.min(1, (Number(score) || 0) / 100));
  const transform = `scaleX(${fraction.toFixed(3)})`;
  if (fill.style.transform !== transform) fill.style.transform = transform;
}
function newRow(item) {
  const row = document.createElement("li");
  row.className = "bs-row is-new";
  row.dataset.idea = String(item.id);
  const rank = document.createElement("span");
  rank.className = "bs-rank";
  rank.dataset.bsRank = "";
  const text = document.createElement("span");
  text.className = "bs-text";
  text.dataset.bsText = "";
  const score = document.createElement("span");
  score.className = "bs-score";
  const label = document.createElement("span");
  label.className = "visually-hidden";
  label.textContent = `${strings.score} `;
  const value = document.createElement("span");
  value.dataset.bsScore = "";
  score.append(label, value);
  const bar = document.createElement("span");
  bar.className = "bs-bar";
  bar.setAttribute("aria-hidden", "true");
  const fill = document.createElement("span");
  fill.className = "bs-bar-fill";
  fill.dataset.bsBar = "";
  bar.append(fill);
  row.append(rank, text, score, bar);
  row.addEventListener("animationend", () => row.classList.remove("is-new"), { once: true });
  return row;
}
function fillRow(row, item) {
  setText(row.querySelector("[data-bs-rank]"), String(item.rank));
  setText(row.querySelector("[data-bs-text]"), item.text);
  setText(row.querySelector("[data-bs-score]"), scoreText(item.score));
  setBar(row, item.score);
}

/** Put the list in the new order, moving only the rows that changed place, and slide them there. */
function renderRanking(ranking) {
  const list = $("[data-bs-ranking]");
  if (!list) return;
  const top = (ranking.top || []).filter((item) => item.rank !== null && item.rank !== undefined).slice(0, TOP);
  const animate = !reducedMotion.matches;
  const before = new Map();
  if (animate) {
    for (const row of list.children) before.set(row.dataset.idea, row.getBoundingClientRect().top);
  }
  const rows = new Map([...list.children].map((row) => [row.dataset.idea, row]));
  const wanted = new Set(top.map((item) => String(item.id)));
  for (const [id, row] of rows) {
    if (!wanted.has(id)) row.remove();
  }
  top.forEach((item, index) => {
    const id = String(item.id);
    let row = rows.get(id);
    if (!row) row = newRow(item);
    fillRow(row, item);
    if (list.children[index] !== row) list.insertBefore(row, list.children[index] || null);
  });
  if (animate) {
    for (const row of list.children) {
      const old = before.get(row.dataset.idea);
      if (old === undefined) continue;
      const delta = old - row.getBoundingClientRect().top;
      if (Math.abs(delta) < 1) continue;
      row.style.transition = "none";
      row.style.transform = `translateY(${delta}px)`;
      row.getBoundingClientRect(); // apply the start position before the transition begins
      row.style.transition = `transform ${MOVE_MS}ms ease`;
      row.style.transform = "";
    }
  }
  setHidden($("[data-bs-empty]"), top.length > 0);
  const unranked = Array.isArray(ranking.unranked) ? ranking.unranked.length : Number(ranking.unranked || 0);
  setText($("[data-bs-need]"), plural(unranked, strings.needVotesOne, strings.needVotesOther));
  setHidden($("[data-bs-need]"), unranked === 0);
  setText($('[data-bs-stat="votes"]'), String(ranking.votes ?? 0));
  const leader = top.length ? top[0] : null;
  if (leader && leaderId !== null && String(leader.id) !== leaderId) {
    announce(format(strings.leader, { text: leader.text }));
  }
  leaderId = leader ? String(leader.id) : null;
}

// --- idea collection -------------------------------------------------------------------------------
function renderIdeas(ideas) {
  setText($("[data-bs-idea-count]"), plural(ideas.count, strings.ideasOne, strings.ideasOther));
  setHidden($("[data-bs-newest-box]"), !ideas.public);
  const list = $("[data-bs-newest]");
  if (!list) return;
  const rows = new Map([...list.children].map((row) => [row.dataset.idea, row]));
  const wanted = new Set(ideas.newest.map((idea) => String(idea.id)));
  for (const [id, row] of rows) {
    if (!wanted.has(id)) row.remove();
  }
  ideas.newest.forEach((idea, index) => {
    const id = String(idea.id);
    let row = rows.get(id);
    if (!row) {
      row = document.createElement("li");
      row.className = "bs-idea is-new";
      row.dataset.idea = id;
      row.addEventListener("animationend", () => row.classList.remove("is-new"), { once: true });
    }
    setText(row, idea.text);
    if (list.children[index] !== row) list.insertBefore(row, list.children[index] || null);
  });
}

// --- everything from data.json ---------------------------------------------------------------------
function renderJoin(join) {
  const box = $("[data-bs-join]");
  setHidden(box, !join);
  if (!join) return;
  setText($("[data-bs-address]"), join.address);
  setText($("[data-bs-code]"), join.code_display);
  const qr = $("[data-bs-qr]");
  if (qr && qr.getAttribute("src") !== join.qr_url) {
    qr.setAttribute("src", join.qr_url);
    qr.alt = format(strings.qrAlt, { code: join.code_display });
  }
}
function showMode(mode) {
  for (const section of root.querySelectorAll("[data-bs-mode]")) setHidden(section, section.dataset.bsMode !== mode);
  setHidden($("[data-bs-votes-box]"), mode !== "ranking");
}
function render(data) {
  const newPhase = data.phase ? String(data.phase.id) : "";
  if (newPhase !== phaseId) {
    phaseId = newPhase;
    leaderId = null;
    root.dataset.phase = phaseId;
    const list = $("[data-bs-ranking]");
    if (list) list.replaceChildren(); // another phase ranks other ideas
    if (data.phase) announce(format(strings.phase, { title: data.phase.title }));
  }
  setText($("[data-bs-phase]"), data.phase ? data.phase.title : "–");
  setText($('[data-bs-stat="connected"]'), String(data.stats.connected));
  setText($('[data-bs-stat="people"]'), String(data.stats.people));
  renderJoin(data.join);
  if (data.ranking) {
    showMode("ranking");
    renderRanking(data.ranking);
  } else if (data.ideas) {
    showMode("ideas");
    renderIdeas(data.ideas);
  } else {
    showMode("other");
  }
}

let fetching = null;
let again = false;
async function refresh() {
  if (fetching) {
    again = true;
    return fetching;
  }
  fetching = (async () => {
    try {
      const response = await fetch(root.dataset.dataUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) render(await response.json());
    } catch {
      // Offline for a moment: live.js shows it; the next event or poll tries again.
    }
  })().finally(() => {
    fetching = null;
    if (again) {
      again = false;
      refresh();
    }
  });
  return fetching;
}
const timers = new Map();
function refreshSoon(delay) {
  if (timers.has(delay)) return;
  timers.set(
    delay,
    window.setTimeout(() => {
      timers.delete(delay);
      refresh();
    }, delay),
  );
}

// --- events ------------------------------------------------------------------------------------------
const IDEA_KINDS = new Set(["idea.created", "idea.edited", "idea.hidden", "idea.shown", "idea.merged"]);
document.addEventListener("live:event", (event) => {
  const { kind, data } = event.detail || {};
  if (kind === "ranking") {
    if (data && String(data.phase) === phaseId) {
      showMode("ranking");
      renderRanking(data);
    } else {
      refreshSoon(200);
    }
  } else if (kind === "phase") {
    refreshSoon(100 + Math.random() * 300);
  } else if (kind === "stats") {
    if (data && data.connected !== undefined) setText($('[data-bs-stat="connected"]'), String(data.connected));
    refreshSoon(3000); // the people count (teams) comes with data.json; many joins make one fetch
  } else if (IDEA_KINDS.has(kind)) {
    refreshSoon(kind === "idea.created" ? 500 : 200);
  }
});

// live.js shows the connection's state in [data-connection]: resync when it comes back, poll without it.
let pollTimer = null;
function followConnection() {
  const state = $("[data-connection]")?.dataset.state;
  if (state === "polling") {
    if (!pollTimer) pollTimer = window.setInterval(refresh, POLL_MS);
    return;
  }
  window.clearInterval(pollTimer);
  pollTimer = null;
  if (state === "live") refresh();
}
const connection = $("[data-connection]");
if (connection) new MutationObserver(followConnection).observe(connection, { attributes: true, attributeFilter: ["data-state"] });
window.setInterval(refresh, SAFETY_MS);

// --- full screen --------------------------------------------------------------------------------------
const fullscreen = $("[data-bs-fullscreen]");
if (fullscreen && document.fullscreenEnabled) {
  fullscreen.hidden = false;
  const label = () => setText(fullscreen, document.fullscreenElement ? strings.fullscreenExit : strings.fullscreen);
  fullscreen.addEventListener("click", () => {
    if (document.fullscreenElement) document.exitFullscreen();
    else document.documentElement.requestFullscreen().catch(() => {});
  });
  document.addEventListener("fullscreenchange", label);
}

// --- start: adopt the server-rendered rows, then draw the bars ------------------------------------------
for (const row of root.querySelectorAll("[data-bs-ranking] > li")) {
  setBar(row, row.querySelector("[data-bs-bar]")?.dataset.score);
}
leaderId = $("[data-bs-ranking] > li")?.dataset.idea ?? null;
