// Cohort transcript export: follow the job's progress; reload when it is ready or has failed.
// Without JavaScript the page's own "Reload" link does the same.
(function () {
  "use strict";
  var box = document.querySelector(".export-status");
  if (!box || ["queued", "running", "failed"].indexOf(box.dataset.state) === -1) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector(".status-text");
  function poll() {
    fetch(box.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.ready || s.state === "dead") { window.location.reload(); return; }
        if (bar) { bar.value = s.percent; }
        if (text) { text.textContent = text.textContent.replace(/\d+ %/, s.percent + " %"); }
        window.setTimeout(poll, 2000);
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 1500);
})();
