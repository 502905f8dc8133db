// Tagging page: "Select all on this page" keeps the row checkboxes in step (checked, partly, none),
// and the number selected is announced. Without this script the server still honours "select all".
const selectAll = document.getElementById("select-all");
const boxes = [...document.querySelectorAll('input[type="checkbox"][name="comments"][form="bulk-form"]')];
const count = document.getElementById("selection-count");

function update() {
  const picked = boxes.filter((box) => box.checked).length;
  if (selectAll) {
    selectAll.checked = boxes.length > 0 && picked === boxes.length;
    selectAll.indeterminate = picked > 0 && picked < boxes.length;
  }
  if (count) count.textContent = picked ? count.dataset.template.replace("{count}", String(picked)) : "";
}

if (selectAll) {
  selectAll.addEventListener("change", () => {
    for (const box of boxes) box.checked = selectAll.checked;
    update();
  });
}
for (const box of boxes) box.addEventListener("change", update);
update();
