// Follows the workbook being built: updates the progress bar, the status line (read out by screen readers)
// and the export's table row every second, and shows the download link once the workbook is ready.
const box = document.querySelector("[data-progress-url]");

function updateRow(state) {
  const row = document.querySelector(`[data-export="${state.id}"]`);
  if (!row) return;
  const status = row.querySelector('[data-field="status"]');
  if (status) {
    status.textContent = state.status_label;
    status.className = `status status-${state.status}`;
  }
  const rows = row.querySelector('[data-field="rows"]');
  if (rows) rows.textContent = state.done ? `${state.rows_total}` : `${state.rows_written} / ${state.rows_total}`;
  const expires = row.querySelector('[data-field="expires"]');
  if (expires && state.expires) expires.textContent = state.expires;
  const download = row.querySelector('[data-field="download"]');
  if (download && state.download_url) {
    const link = document.createElement("a");
    link.href = state.download_url;
    link.textContent = row.closest("table")?.dataset.downloadLabel || state.status_label;
    download.replaceChildren(link);
  }
}

function show(state) {
  const bar = document.getElementById("export-bar");
  if (bar) {
    bar.max = Math.max(state.rows_total, 1);
    bar.value = state.done ? bar.max : state.rows_written;
  }
  const text = document.getElementById("export-status");
  if (text && text.textContent !== state.text) text.textContent = state.text;
  const download = document.getElementById("export-download");
  if (download && state.download_url) {
    download.querySelector("a").href = state.download_url;
    download.hidden = false;
  }
  updateRow(state);
}

async function poll() {
  try {
    const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) {
      setTimeout(poll, 3000);
      return;
    }
    const state = await response.json();
    show(state);
    if (state.building) setTimeout(poll, 1000);
  } catch {
    setTimeout(poll, 3000);
  }
}

if (box && box.dataset.running) poll();
