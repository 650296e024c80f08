// Start GOV.UK Frontend's components (menus, error summary focus...). Served from our own origin
// so the Content-Security-Policy needs no inline script.
import { initAll } from "./build/govuk-frontend.min.js";

initAll();
