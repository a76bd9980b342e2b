// Live progress of deliveries being processed, on the receipt page and the deliveries list.
// Each page works without it: reloading shows the same state, rendered by the server.
(function () {
  "use strict";
  var INTERVAL = 1500;       // ms between polls while a delivery is processed
  var RETRY = 5000;          // ms after a failed poll, or while the tab is hidden
  var labelsNode = document.getElementById("live-labels");
  if (!labelsNode) return;
  var labels = JSON.parse(labelsNode.textContent);
  var announcer = document.getElementById("announce");

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, name) {
      return name in values ? values[name] : match;
    });
  }

  function isFinal(status) {
    return labels.final.indexOf(status) !== -1;
  }

  function percentOf(data) {
    return data.progress === null || data.progress === undefined ? null : Math.floor(data.progress * 100);
  }

  function announce(text) {
    if (!announcer) return;
    // Emptied first, so that the same words said twice are announced twice.
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = text; }, 50);
  }

  function setBadge(badge, status) {
    badge.className = "status " + status;
    badge.textContent = labels.status[status] || status;
  }

  // Asks url for the receipt's state until it is final; onData gets each answer.
  function poll(url, onData) {
    function next(delay) {
      window.setTimeout(ask, document.hidden ? Math.max(delay, RETRY) : delay);
    }
    function ask() {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error(response.status);
          return response.json();
        })
        .then(function (data) {
          if (onData(data) !== false) next(INTERVAL);
        })
        .catch(function () { next(RETRY); });
    }
    next(INTERVAL);
  }

  // Progress is announced when the status changes and at each quarter, not at every poll.
  function quarter(percent) {
    return percent === null ? -1 : Math.floor(percent / 25);
  }

  // --- the receipt page ---------------------------------------------------------
  var receipt = document.getElementById("receipt");
  if (receipt && receipt.dataset.final === "false") {
    var lastStatus = document.getElementById("status").className.replace("status ", "");
    var lastQuarter = quarter(document.getElementById("progress").hasAttribute("value")
      ? Number(document.getElementById("progress").value) : null);

    var showFinal = function (data) {
      // The finished receipt is rendered by the server, as on a fresh load.
      fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) { return response.text(); })
        .then(function (html) {
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("receipt");
          if (!fresh) { window.location.reload(); return; }
          receipt.innerHTML = fresh.innerHTML;
          receipt.dataset.final = "true";
          if (receipt.querySelector("table.sortable")) {
            var script = document.createElement("script");
            script.src = receipt.dataset.sortable;
            document.body.appendChild(script);
          }
          announce(fill(labels.finished, { status: labels.status[data.status] || data.status }));
        })
        .catch(function () { window.location.reload(); });
    };

    poll(receipt.dataset.statusUrl, function (data) {
      if (isFinal(data.status)) {
        showFinal(data);
        return false;
      }
      var percent = percentOf(data);
      var progress = document.getElementById("progress");
      var text = document.getElementById("progress-text");
      setBadge(document.getElementById("status"), data.status);
      if (percent === null) {
        progress.removeAttribute("value");
        text.textContent = labels.waiting;
      } else {
        progress.value = percent;
        text.textContent = fill(labels.processing, { percent: percent });
      }
      if (data.status !== lastStatus || quarter(percent) !== lastQuarter) {
        announce(text.textContent);
      }
      lastStatus = data.status;
      lastQuarter = quarter(percent);
      return true;
    });
  }

  // --- the deliveries list ------------------------------------------------------
  var rows = document.querySelectorAll("tr[data-status-url]");
  Array.prototype.forEach.call(rows, function (row) {
    poll(row.dataset.statusUrl, function (data) {
      var badge = row.querySelector(".status");
      var progress = row.querySelector("progress");
      var percentText = row.querySelector(".percent");
      var before = badge.className;
      setBadge(badge, data.status);
      if (isFinal(data.status)) {
        if (progress) progress.remove();
        if (percentText) percentText.remove();
        Object.keys(data.counts).forEach(function (name) {
          var cell = row.querySelector('[data-count="' + name + '"]');
          if (cell) cell.textContent = data.counts[name];
        });
        row.removeAttribute("data-status-url");
        announce(fill(labels.row_status, {
          name: row.dataset.name || labels.unnamed, status: labels.status[data.status] || data.status
        }));
        return false;
      }
      var percent = percentOf(data);
      if (progress && percent !== null) progress.value = percent;
      if (percentText) percentText.textContent = percent === null ? "" : percent + "\u00a0%";
      if (badge.className !== before) {
        announce(fill(labels.row_status, { name: row.dataset.name || labels.unnamed, status: badge.textContent }));
      }
      return true;
    });
  });
})();
