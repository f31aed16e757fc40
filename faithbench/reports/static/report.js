(function () {
  "use strict";
  function update(pairId) {
    var pair = document.getElementById(pairId);
    if (!pair) { return; }
    var select = pair.querySelector("select.diff-filter");
    var search = pair.querySelector("input.diff-search");
    var kind = select ? select.value : "all";
    var text = search ? search.value.trim().toLowerCase() : "";
    var shown = 0;
    pair.querySelectorAll("details.diff-item").forEach(function (item) {
      var visible = (kind === "all" || item.getAttribute("data-kind") === kind) &&
        (!text || item.textContent.toLowerCase().indexOf(text) !== -1);
      item.hidden = !visible;
      if (visible) { shown += 1; }
    });
    var count = pair.querySelector(".shown-count");
    if (count) { count.textContent = shown + " shown"; }
  }
  document.querySelectorAll("select.diff-filter, input.diff-search").forEach(function (el) {
    el.addEventListener("input", function () { update(el.getAttribute("data-pair")); });
    el.addEventListener("change", function () { update(el.getAttribute("data-pair")); });
  });
  document.querySelectorAll("button.expand, button.collapse").forEach(function (button) {
    button.addEventListener("click", function () {
      var pair = document.getElementById(button.getAttribute("data-pair"));
      var open = button.classList.contains("expand");
      pair.querySelectorAll("details.diff-item").forEach(function (item) {
        if (!item.hidden) { item.open = open; }
      });
    });
  });
  document.querySelectorAll(".pair").forEach(function (pair) { update(pair.id); });
  document.documentElement.setAttribute("data-js", "ready");
})();
