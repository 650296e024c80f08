// Start GOV.UK Frontend's components (menus, error summary focus...). Served from our own origin
// so the Content-Security-Policy needs no inline script.
import { initAll } from "./build/govuk-frontend.min.js";

initAll();

// On small screens a table's rows stack (assets/_app-components.scss) and each cell is led by its
// column's heading, taken from the cell's data-label. Templates write it where they can; this fills in
// the rest from the table's column headers, so every stacked cell says what it is.
for (const table of document.querySelectorAll(".app-table-wrapper table")) {
  const headings = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
  for (const row of table.querySelectorAll("tbody tr")) {
    let column = 0;
    for (const cell of row.cells) {
      const span = cell.colSpan || 1;
      // A row's own heading (th scope=row) leads its block already; a cell across columns has no one heading.
      if (cell.tagName === "TD" && span === 1 && !cell.hasAttribute("data-label") && headings[column]) {
        cell.dataset.label = headings[column];
      }
      column += span;
    }
  }
}
