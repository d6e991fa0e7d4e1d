// Rubric levels: show the score they give as the grader clicks, and fill the score field.
// The server computes the same figure (Σ chosen ÷ Σ best × 100, half-up to 0.01); without this
// script the form still works and the server's figure is shown after saving.
(function () {
  "use strict";
  var rubric = document.getElementById("rubric");
  var output = document.getElementById("rubric-score");
  var score = document.getElementById("score");
  if (!rubric || !output) { return; }

  function cents(text) {  // "12.5" -> 1250, exactly, without floating point
    var parts = String(text).split(".");
    var frac = ((parts[1] || "") + "00").slice(0, 2);
    return parseInt(parts[0] || "0", 10) * 100 + parseInt(frac, 10);
  }

  function update() {
    var earned = 0, best = 0, complete = true;
    rubric.querySelectorAll("fieldset.criterion").forEach(function (set) {
      var max = 0;
      set.querySelectorAll("input[data-points]").forEach(function (input) {
        max = Math.max(max, cents(input.dataset.points));
      });
      best += max;
      var chosen = set.querySelector("input:checked");
      if (chosen && chosen.dataset.points !== undefined) { earned += cents(chosen.dataset.points); }
      else { complete = false; }
    });
    if (!complete || best === 0) { output.textContent = "—"; return; }
    // hundredths of a percent, rounded half-up: floor((2 × 10000 × earned + best) / (2 × best))
    var hundredths = Math.floor((20000 * earned + best) / (2 * best));
    var text = Math.floor(hundredths / 100) + "." + String(hundredths % 100).padStart(2, "0");
    output.textContent = text;
    if (score) { score.value = text; }
  }

  rubric.addEventListener("change", update);
  update();
})();
