// The rounds grid: drag a person to another room of the same round. The same "Move" form under each
// name works without this script (and with the keyboard); this only saves the page reload.
//
// A drop POSTs the move endpoint with fetch; the person's element moves only once the server agrees,
// and the result is announced in the page's polite live region.

const grid = document.querySelector("[data-rounds-grid]");

if (grid) {
  const announce = grid.querySelector("[data-announce]");
  const errorBox = grid.querySelector("[data-error]");
  const moveUrl = grid.dataset.moveUrl;
  let dragged = null;

  const csrfToken = () => {
    const input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  };
  const roundOf = (element) => element.closest("[data-round]");
  const roomOf = (element) => element.closest("[data-room-index]");

  function say(text) {
    errorBox.textContent = "";
    // Clear first so the same text twice in a row is still read out.
    announce.textContent = "";
    window.setTimeout(() => {
      announce.textContent = text;
    }, 50);
  }

  function fail(text) {
    announce.textContent = "";
    errorBox.textContent = text;
  }

  function refreshCounts(round) {
    for (const room of round.querySelectorAll("[data-room-index]")) {
      const count = room.querySelectorAll(".member:not([data-gone])").length;
      room.querySelector("[data-room-count]").textContent = String(count);
    }
  }

  // The "Move to" list of a person offers every room of the round except the one they are in.
  function refreshChoices(member, room) {
    const select = member.querySelector("select[name=room]");
    const chosen = select.value;
    select.replaceChildren();
    for (const other of roundOf(room).querySelectorAll("[data-room-index]")) {
      if (other === room) continue;
      const option = new Option(other.querySelector("h3").textContent.trim(), other.dataset.roomIndex);
      select.append(option);
    }
    if ([...select.options].some((option) => option.value === chosen)) select.value = chosen;
  }

  function refreshPairs(pairs) {
    if (!pairs) return;
    for (const [number, count] of Object.entries(pairs)) {
      const target = grid.querySelector(`[data-round="${number}"] [data-repeated-pairs]`);
      if (target) target.textContent = String(count);
    }
  }

  async function move(member, room) {
    const round = roundOf(room);
    const body = new URLSearchParams({
      participant: member.dataset.participant,
      round: round.dataset.round,
      room: room.dataset.roomIndex,
    });
    let data = {};
    let ok = false;
    try {
      const response = await fetch(moveUrl, {
        method: "POST",
        body,
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() },
        credentials: "same-origin",
      });
      ok = response.ok;
      data = await response.json().catch(() => ({}));
    } catch {
      ok = false;
    }
    if (!ok || !data.ok) {
      fail(data.error || grid.dataset.failedText);
      return;
    }
    room.querySelector(".room-members").append(member);
    // Whoever is moved is in the room again, also someone who had gone.
    member.removeAttribute("data-gone");
    member.classList.remove("member-gone");
    const struck = member.querySelector(".member-name s");
    if (struck) member.querySelector(".member-name").replaceChildren(struck.textContent);
    refreshChoices(member, room);
    refreshCounts(round);
    refreshPairs(data.repeated_pairs);
    say(data.message);
  }

  grid.addEventListener("dragstart", (event) => {
    const member = event.target.closest && event.target.closest(".member[draggable=true]");
    if (!member) return;
    dragged = member;
    member.classList.add("member-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", member.dataset.name || "");
  });

  grid.addEventListener("dragend", () => {
    if (dragged) dragged.classList.remove("member-dragging");
    dragged = null;
    for (const room of grid.querySelectorAll(".room-drop-target")) room.classList.remove("room-drop-target");
  });

  const targetFor = (event) => {
    const room = roomOf(event.target);
    if (!dragged || !room || room === roomOf(dragged) || roundOf(room) !== roundOf(dragged)) return null;
    return room;
  };

  grid.addEventListener("dragover", (event) => {
    const room = targetFor(event);
    if (!room) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    room.classList.add("room-drop-target");
  });

  grid.addEventListener("dragleave", (event) => {
    const room = roomOf(event.target);
    if (room && !room.contains(event.relatedTarget)) room.classList.remove("room-drop-target");
  });

  grid.addEventListener("drop", (event) => {
    const room = targetFor(event);
    if (!room) return;
    event.preventDefault();
    room.classList.remove("room-drop-target");
    const member = dragged;
    dragged = null;
    member.classList.remove("member-dragging");
    move(member, room);
  });
}
