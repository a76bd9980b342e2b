/* Draws each chart of the page from the data the page carries: no request of its own.
 *
 * A chart is a <figure data-chart="ID"> whose <script type="application/json" id="ID">
 * holds {data, layout, filename}: plotly traces built by the server, the same numbers
 * as the table beside it. Buttons with data-download="png|svg" inside the figure save it.
 */
(function () {
  "use strict";

  var CONFIG = {
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d"]
  };

  function draw(figure) {
    var island = document.getElementById(figure.getAttribute("data-chart"));
    if (!island || typeof Plotly === "undefined") { return; }
    var spec = JSON.parse(island.textContent);
    var target = figure.querySelector(".chart");
    var config = Object.assign({}, CONFIG, {
      toImageButtonOptions: { format: "png", filename: spec.filename, scale: 2 }
    });
    if (spec.static) { config.staticPlot = true; }
    Plotly.newPlot(target, spec.data, spec.layout, config).then(function () {
      figure.classList.add("drawn");
    });
    figure.querySelectorAll("[data-download]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        Plotly.downloadImage(target, {
          format: button.getAttribute("data-download"),
          filename: spec.filename,
          width: target.clientWidth || 900,
          height: target.clientHeight || 450
        });
      });
    });
  }

  document.querySelectorAll("figure[data-chart]").forEach(draw);
})();
