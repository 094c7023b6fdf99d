// Enhancements only: every page works without this file.
(function () {
  "use strict";
  // Move focus to the error summary so that screen reader users hear first what to fix.
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
})();
