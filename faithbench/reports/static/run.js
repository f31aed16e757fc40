(function () {
  "use strict";
  // The single-run page's sample browser: filters by correct/incorrect, by one metric's verdict and
  // by text; each sample carries data-correct="1|0" and data-verdicts="metric:verdict ...".
  var list = document.querySelector(".sample-list");
  if (!list) { return; }
  var samples = Array.prototype.slice.call(list.querySelectorAll("details.sample"));
  function value(name) {
    var el = document.querySelector('.sample-filter[data-filter="' + name + '"]');
    return el ? el.value : "";
  }
  function verdictOf(sample, metric) {
    var tokens = (sample.getAttribute("data-verdicts") || "").split(" ");
    for (var i = 0; i < tokens.length; i += 1) {
      var cut = tokens[i].lastIndexOf(":");
      if (tokens[i].slice(0, cut) === metric) { return tokens[i].slice(cut + 1); }
    }
    return "absent";
  }
  function update() {
    var correct = value("correct");
    var metric = value("metric");
    var verdict = value("verdict");
    var text = value("text").trim().toLowerCase();
    var shown = 0;
    samples.forEach(function (sample) {
      var v = verdictOf(sample, metric);
      var visible = (correct === "all" || sample.getAttribute("data-correct") === correct) &&
        (verdict === "any" || v === verdict || (verdict === "below" && (v === "zero" || v === "partial"))) &&
        (!text || sample.textContent.toLowerCase().indexOf(text) !== -1);
      sample.hidden = !visible;
      if (visible) { shown += 1; }
    });
    var count = document.querySelector(".sample-count");
    if (count) { count.textContent = shown + " of " + samples.length + " shown"; }
  }
  document.querySelectorAll(".sample-filter").forEach(function (el) {
    el.addEventListener("input", update);
    el.addEventListener("change", update);
  });
  document.querySelectorAll("button.sample-expand, button.sample-collapse").forEach(function (button) {
    button.addEventListener("click", function () {
      var open = button.classList.contains("sample-expand");
      samples.forEach(function (sample) { if (!sample.hidden) { sample.open = open; } });
    });
  });
  update();
  document.documentElement.setAttribute("data-run-js", "ready");
})();
