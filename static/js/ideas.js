// The idea collection on the live page: character counters, pushes of moderated ideas, the facilitators'
// hiding, correcting and merging, and the team-size form. Uses window.KehittamoLive from live.js.
//
// The panel is replaced when the phase changes, so everything here listens on `document`. Nothing here
// replaces an element that holds a text field someone is typing in: pushes only swap an idea's main part.

const live = window.KehittamoLive;

if (live && live.root) {
  const { root, post, fragment, say, actionOf, reloadPanel } = live;
  const isStaff = root.dataset.staff === "1";

  // --- character counters ------------------------------------------------------------------------
  function countChars(value) {
    // The server counts code points of the trimmed text; so does this.
    return [...value.replace(/\r\n/g, "\n").trim()].length;
  }
  function phrase(counter, kind, count) {
    const template = counter.dataset[`${kind}${count === 1 ? "One" : "Many"}`] || "%(count)s";
    return template.replace("%(count)s", String(count));
  }
  function updateCounter(counter, quiet = false) {
    const area = document.getElementById(counter.dataset.for);
    if (!area) return;
    const limit = Number(counter.dataset.limit);
    const length = countChars(area.value);
    if (counter.dataset.counted === String(length)) return;
    counter.dataset.counted = String(length);
    const left = limit - length;
    const near = Math.max(10, Math.round(limit * 0.1));
    const band = left < 0 ? "over" : left <= near ? "near" : "ok";
    const text = left >= 0 ? phrase(counter, "left", left) : phrase(counter, "over", -left);
    const display = counter.querySelector("[data-char-count-text]");
    if (display) display.textContent = text;
    counter.classList.toggle("is-near", band === "near");
    counter.classList.toggle("is-over", band === "over");
    if (band === "over") area.setAttribute("aria-invalid", "true");
    else area.removeAttribute("aria-invalid");
    // Screen readers hear the count only when it crosses into "nearly full" or "too long", not on every key.
    const previous = counter.dataset.band || "ok";
    counter.dataset.band = band;
    const region = counter.nextElementSibling;
    if (!quiet && band !== previous && band !== "ok" && region && region.hasAttribute("data-char-announce")) {
      region.textContent = text;
    }
  }
  function updateCounters(scope = root, quiet = true) {
    for (const counter of scope.querySelectorAll("[data-char-count]")) {
      // Cheap first look: only a field whose length changed needs counting again.
      const area = document.getElementById(counter.dataset.for);
      if (!area || counter.dataset.raw === String(area.value.length)) continue;
      counter.dataset.raw = String(area.value.length);
      updateCounter(counter, quiet);
    }
  }
  document.addEventListener("input", (event) => {
    const area = event.target;
    if (area.tagName !== "TEXTAREA" || !area.id) return;
    const counter = document.getElementById(`${area.id}-count`);
    if (counter && counter.hasAttribute("data-char-count")) updateCounter(counter);
  });
  // Drafts restored, text given back after a refusal, panels replaced: recount whatever changed.
  let recountQueued = false;
  new MutationObserver(() => {
    if (recountQueued) return;
    recountQueued = true;
    window.requestAnimationFrame(() => {
      recountQueued = false;
      updateCounters();
      revealStaffTools(root);
      updateListState();
    });
  }).observe(root.querySelector("[data-panel-slot]") || root, { childList: true, subtree: true, characterData: true });

  // --- small helpers ---------------------------------------------------------------------------------
  function ideaOf(data) {
    return document.getElementById(data.dom_id || `idea-${data.id}`);
  }
  function listOf(phase) {
    return root.querySelector(`[data-thread-list="i${CSS.escape(String(phase))}"]`);
  }
  function textOf(item) {
    const text = item && item.querySelector("[data-idea-text]");
    if (!text) return "";
    const copy = text.cloneNode(true);
    copy.querySelectorAll("br").forEach((br) => br.replaceWith("\n"));
    return copy.textContent.replace(/\n\s*\n/g, "\n").trim();
  }
  function revealStaffTools(scope) {
    if (!isStaff) return;
    for (const tools of scope.querySelectorAll("[data-idea-staff][hidden]")) tools.hidden = false;
    for (const pick of scope.querySelectorAll("[data-idea-merge-pick][hidden]")) pick.hidden = false;
  }
  function updateListState() {
    for (const section of root.querySelectorAll("[data-ideas]")) {
      const list = section.querySelector("[data-thread-list]");
      const empty = section.querySelector("[data-ideas-empty]");
      if (!list) continue;
      if (empty) empty.hidden = list.children.length > 0;
      const total = section.querySelector("[data-idea-total][data-live-total]");
      if (total) {
        const count = list.querySelectorAll(":scope > .idea:not(.is-hidden):not(.is-merged)").length;
        if (total.dataset.shown !== String(count)) {
          total.dataset.shown = String(count);
          total.textContent = phrase(total, "total", count);
        }
      }
    }
  }
  function toolError(element, message) {
    let box = element.querySelector(":scope > [data-idea-error]");
    if (!box) {
      box = document.createElement("p");
      box.dataset.ideaError = "";
      box.className = "error-text";
      box.setAttribute("role", "alert");
      element.append(box);
    }
    box.textContent = message || live.strings.failed;
  }
  function clearError(element) {
    element.querySelector(":scope > [data-idea-error]")?.remove();
  }
  async function send(form, fields) {
    try {
      const { response, data } = await post(actionOf(form), fields);
      if (!response.ok) {
        toolError(form, data.error);
        return null;
      }
      clearError(form);
      return data;
    } catch {
      toolError(form, live.strings.offlineAction);
      return null;
    }
  }

  // --- the merge form's choices follow the list -------------------------------------------------------
  function mergeSelects() {
    return {
      source: root.querySelector("[data-idea-merge-source]"),
      target: root.querySelector("[data-idea-merge-target]"),
    };
  }
  function optionFor(select, id) {
    return select && select.querySelector(`option[value="${CSS.escape(String(id))}"]`);
  }
  function addChoice(select, item) {
    if (!select || !item || optionFor(select, item.dataset.idea)) return;
    const option = document.createElement("option");
    option.value = item.dataset.idea;
    const text = textOf(item);
    option.textContent = `${item.dataset.idea}: ${text.length > 70 ? `${text.slice(0, 69)}…` : text}`;
    select.append(option);
  }
  function removeChoice(select, id) {
    const option = optionFor(select, id);
    if (option && !option.selected) option.remove();
  }

  // --- pushes -----------------------------------------------------------------------------------------
  function markHidden(item, hidden) {
    item.classList.toggle("is-hidden", hidden);
    item.querySelector("[data-idea-hidden-badge]")?.toggleAttribute("hidden", !hidden);
    item.querySelector("[data-idea-hide]")?.toggleAttribute("hidden", hidden);
    item.querySelector("[data-idea-unhide]")?.toggleAttribute("hidden", !hidden);
  }
  function ideaHidden(data) {
    const item = ideaOf(data);
    if (!item) return;
    if (!isStaff) {
      item.remove();
      return;
    }
    markHidden(item, true);
    removeChoice(mergeSelects().target, data.id);
  }
  function ideaShown(data) {
    let item = ideaOf(data);
    if (item) {
      markHidden(item, false);
    } else {
      const list = listOf(data.phase);
      if (!list || !data.html) return;
      item = fragment(data.html);
      // Keep the list in the order the ideas were sent.
      const later = [...list.children].find((other) => Number(other.dataset.idea) > Number(data.id));
      list.insertBefore(item, later || null);
      revealStaffTools(item);
    }
    addChoice(mergeSelects().target, item);
  }
  function replaceMain(item, html) {
    const main = item && item.querySelector("[data-idea-main]");
    if (!main || !html) return;
    const fresh = fragment(html);
    main.replaceWith(fresh.matches("[data-idea-main]") ? fresh : fresh.querySelector("[data-idea-main]"));
  }
  function ideaEdited(data) {
    const item = ideaOf(data);
    if (!item) return;
    replaceMain(item, data.html);
    // Another facilitator's correction reaches a closed edit box, never one that is open.
    const area = item.querySelector("[data-idea-edit] textarea");
    const details = area && area.closest("details");
    if (area && document.activeElement !== area && !(details && details.open)) area.value = textOf(item);
  }
  let reloadTimer = null;
  function reloadSoon() {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => reloadPanel(), 300);
  }
  function ideaMerged(data) {
    if (isStaff) {
      // "Merged into …" notes, counts and the merge form's choices all change: take the panel afresh.
      reloadSoon();
      return;
    }
    const item = ideaOf(data);
    if (item && item.hasAttribute("data-mine")) {
      item.classList.add("is-merged");
      item.querySelector("[data-idea-merged-own]")?.removeAttribute("hidden");
    } else if (item) {
      item.remove();
    }
    replaceMain(document.getElementById(data.into_dom_id), data.html);
  }
  document.addEventListener("live:event", (event) => {
    const { kind, data = {} } = event.detail || {};
    switch (kind) {
      case "idea.created": {
        const item = ideaOf(data);
        if (item) {
          revealStaffTools(item);
          addChoice(mergeSelects().source, item);
          addChoice(mergeSelects().target, item);
        }
        break;
      }
      case "idea.hidden":
        ideaHidden(data);
        break;
      case "items.hidden":
        for (const idea of data.ideas || []) ideaHidden(idea);
        break;
      case "idea.shown":
        ideaShown(data);
        break;
      case "idea.edited":
        ideaEdited(data);
        break;
      case "idea.merged":
        ideaMerged(data);
        break;
      default:
        return;
    }
    updateListState();
  });

  // --- forms ---------------------------------------------------------------------------------------------
  document.addEventListener("click", (event) => {
    const pick = event.target.closest && event.target.closest("[data-idea-merge-pick]");
    if (!pick) return;
    const box = root.querySelector("[data-idea-merge-box]");
    const { source, target } = mergeSelects();
    if (!box || !source || !target) return;
    box.open = true;
    source.value = pick.dataset.ideaMergePick;
    target.focus();
  });
  document.addEventListener("submit", async (event) => {
    const form = event.target;
    if (!root.contains(form)) return;
    if (form.matches("[data-composer]") && form.closest("[data-ideas]")) {
      // live.js has taken the text into its outbox and emptied the field.
      const canRun = form.querySelector("[name=can_run]");
      if (canRun) canRun.checked = false;
      window.setTimeout(() => form.querySelectorAll("[data-char-count]").forEach((c) => updateCounter(c, true)), 0);
      return;
    }
    const submitter = event.submitter;
    if (form.matches("[data-idea-moderate]")) {
      event.preventDefault();
      const action = submitter?.value || "hide";
      const data = await send(form, { action });
      if (data) (action === "hide" ? ideaHidden : ideaShown)(data);
      updateListState();
    } else if (form.matches("[data-idea-edit]")) {
      event.preventDefault();
      const area = form.querySelector("textarea");
      const data = await send(form, { text: area.value });
      if (!data) return;
      const item = form.closest("[data-idea]");
      replaceMain(item, data.html);
      const details = form.closest("details");
      if (details) details.open = false;
      item?.querySelector("summary")?.focus();
    } else if (form.matches("[data-idea-merge]")) {
      event.preventDefault();
      const fields = Object.fromEntries(new FormData(form));
      delete fields.csrfmiddlewaretoken;
      const status = form.querySelector("[data-idea-merge-status]");
      const data = await send(form, fields);
      if (!data) return;
      say(status, form.dataset.done);
      live.announce(form.dataset.done);
      reloadSoon();
    } else if (form.matches("[data-team-size]")) {
      event.preventDefault();
      const input = form.querySelector("[name=size]");
      const status = form.querySelector("[data-team-size-status]");
      const data = await send(form, { size: input.value });
      if (data) say(status, data.message);
    }
  });

  revealStaffTools(root);
  updateCounters(root, true);
  updateListState();
}
