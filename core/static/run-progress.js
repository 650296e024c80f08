// A matching run's page while the run goes on: fetch the page again every few seconds and put its
// progress box (or, once the run ends, its figures) in place of this one's, instead of a timed reload
// that would lose a reader's place. A screen reader hears a new stage and the end through the polite
// live region #run-announcement, not every share done. Without JavaScript the Refresh link does this.
const EVERY_MS = 2000;
const GIVE_UP_AFTER_FAILURES = 5;

const announcement = document.getElementById("run-announcement");
let failures = 0;

function announce(text) {
  if (announcement && text) announcement.textContent = text;
}

async function update() {
  const here = document.getElementById("run-result");
  const progress = document.getElementById("run-progress");
  if (!here || !progress) return;
  let response;
  try {
    response = await fetch(window.location.href, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "text/html" },
    });
  } catch {
    response = null;
  }
  // Signed out (redirected to sign-in) or the server unreachable: stop, the Refresh link remains.
  if (!response || !response.ok || response.redirected) {
    failures += 1;
    if (failures < GIVE_UP_AFTER_FAILURES && (!response || !response.redirected)) {
      window.setTimeout(update, EVERY_MS * (failures + 1));
    }
    return;
  }
  failures = 0;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const freshResult = fresh.getElementById("run-result");
  if (!freshResult) return;
  const freshProgress = fresh.getElementById("run-progress");
  if (freshProgress) {
    if (freshProgress.dataset.stage !== progress.dataset.stage) announce(freshProgress.dataset.stage);
    progress.replaceWith(document.importNode(freshProgress, true));
    window.setTimeout(update, EVERY_MS);
    return;
  }
  // Finished (or failed): show the figures; the failure summary carries role="alert" of its own.
  here.replaceWith(document.importNode(freshResult, true));
  if (!fresh.querySelector("#run-result [role=alert]")) announce("The run has finished. Its figures are below.");
}

window.setTimeout(update, EVERY_MS);
