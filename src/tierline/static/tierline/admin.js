/*
 * Tierline's additions to Django's admin scripts, for accessibility (axe-core in the browser tests).
 * Loaded deferred by templates/admin/base_site.html, so its "load" handler runs after the admin's.
 *
 * The two-list selector (filter_horizontal, admin/js/SelectFilter2.js) labels its filter boxes with
 * a <span class="help-tooltip" aria-label="Type into this box to filter down the list…">, the
 * label's only content. ARIA forbids aria-label on a plain span, so browsers drop it and the box has
 * no name but its placeholder. As an image (it is the magnifier icon) the span keeps its name, and
 * the label, and so the filter box, reads "Type into this box to filter down the list of …".
 */
(function () {
  "use strict";
  window.addEventListener("load", function () {
    document.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  });
})();
