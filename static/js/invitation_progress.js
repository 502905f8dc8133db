// Follows a running invitation batch: updates the progress bar and counts, then reloads the table once.
const box = document.querySelector("[data-progress-url]");

async function poll() {
  try {
    const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return setTimeout(poll, 3000);
    const { batch, overview } = await response.json();
    for (const [key, value] of Object.entries(overview)) {
      const cell = document.querySelector(`[data-count="${key}"]`);
      if (cell) cell.textContent = value;
    }
    if (batch) {
      const bar = document.getElementById("progress-bar");
      bar.max = Math.max(batch.total, 1);
      bar.value = batch.sent + batch.failed;
      document.getElementById("progress-text").textContent = `${batch.sent + batch.failed} / ${batch.total} (${batch.percent} %)`;
      if (batch.done) {
        window.location.reload();
        return;
      }
    }
    setTimeout(poll, 1000);
  } catch {
    setTimeout(poll, 3000);
  }
}

if (box && box.dataset.running) poll();
