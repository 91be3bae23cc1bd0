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

  // "Test connection" sits under the key fields it tests (the template puts it at the end of
  // the form, where it stays without JavaScript).
  function placeTestConnection() {
    var panel = document.querySelector(".aiadmin-test-connection");
    var key = document.querySelector("input[name=shared_api_key]");
    var section = key && key.closest("fieldset");
    if (panel && section) {
      section.insertAdjacentElement("afterend", panel);
    }
  }

  // Only the auth fields of the chosen style are shown (the others keep what was typed).
  var AUTH_FIELDS = { header: ["auth_header", "auth_prefix"], query: ["auth_param"] };

  function showAuthFields() {
    var style = document.querySelector("select[name=auth_style]");
    if (!style) {
      return;
    }
    ["auth_header", "auth_prefix", "auth_param"].forEach(function (name) {
      var wanted = (AUTH_FIELDS[style.value] || []).indexOf(name) !== -1;
      document.querySelectorAll(".field-" + name).forEach(function (line) {
        line.classList.toggle("aiadmin-hidden", !wanted && !line.classList.contains("errors"));
      });
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches("select[name=auth_style]")) {
      showAuthFields();
    }
  });

  function ready() {
    openSectionsWithErrors();
    placeTestConnection();
    showAuthFields();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
