// After a form is answered with a result on the same page, keyboard and screen
// reader users should start at the result, not at the top of the page. The page
// marks the element with data-focus; a file, not an inline script, so that the
// Content Security Policy can forbid inline scripts everywhere.
(function () {
  "use strict";
  var target = document.querySelector("[data-focus]");
  if (target) {
    target.focus();
  }
})();
