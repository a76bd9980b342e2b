// Says that the file is on its way (a large upload takes a while and the browser shows
// little), and keeps a second press of the button from sending it again.
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  var status = document.getElementById("sending");
  if (!form || !status) return;
  var sent = false;
  form.addEventListener("submit", function (event) {
    if (sent) {
      event.preventDefault();
      return;
    }
    sent = true;
    var dry = form.querySelector("input[name=dry_run]");
    status.textContent = dry && dry.checked ? status.dataset.checking : status.dataset.sending;
    form.querySelector("button[type=submit]").setAttribute("aria-disabled", "true");
  });
  // Coming back to the page (the browser's back button) makes it usable again.
  window.addEventListener("pageshow", function () {
    sent = false;
    status.textContent = "";
    form.querySelector("button[type=submit]").removeAttribute("aria-disabled");
  });
})();
