// The provider form of the admin (aiadmin/providers/forms.py AIProviderAdminForm). A static
// file, loaded through the form's Media: the console's CSP allows no inline script.
(function () {
  "use strict";

  // Extra headers as name/value rows: "Add header" clones an empty row, "Remove" drops one
  // (the last row is emptied rather than removed, so there is always one to type in).
  function emptyRow(row) {
    row.querySelectorAll("input").forEach(function (input) { input.value = ""; });
    return row;
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-header-row-add]");
    if (add) {
      var list = add.closest("[data-header-rows]").querySelector(".aiadmin-header-rows__list");
      var rows = list.querySelectorAll("[data-header-row]");
      var row = emptyRow(rows[rows.length - 1].cloneNode(true));
      list.appendChild(row);
      row.querySelector("input").focus();
      return;
    }
    var remove = event.target.closest("[data-header-row-remove]");
    if (remove) {
      var current = remove.closest("[data-header-row]");
      if (current.parentNode.querySelectorAll("[data-header-row]").length > 1) {
        current.remove();
      } else {
        emptyRow(current);
      }
    }
  });

  // A collapsed section with an error in it is opened, so no error is hidden.
  function openSectionsWithErrors() {
    document.querySelectorAll("fieldset details").forEach(function (details) {
      if (details.querySelector(".errorlist, .errors, [class*='text-red']")) {
        details.open = true;
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", openSectionsWithErrors);
  } else {
    openSectionsWithErrors();
  }
})();
