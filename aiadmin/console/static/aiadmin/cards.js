// The provider cards page: the model browser opens in a wide <dialog> (a drawer). HTMX loads
// the list into it; this only opens it, titles it and closes it on a click on the backdrop.
// The close button is a <form method="dialog"> and Esc is the dialog's own: both work as is.
(function () {
  "use strict";

  function drawer() {
    return document.getElementById("model-drawer");
  }

  document.addEventListener("click", function (event) {
    var opener = event.target.closest("[data-drawer-title]");
    var dialog = drawer();
    if (opener && dialog) {
      document.getElementById("model-drawer-title").textContent = opener.getAttribute("data-drawer-title");
      var body = document.getElementById("model-drawer-body");
      var loading = document.createElement("p");
      loading.className = "ai-muted";
      loading.setAttribute("role", "status");
      loading.textContent = "Loading the model list…";
      body.replaceChildren(loading);
      if (!dialog.open) {
        dialog.showModal();
      }
      return;
    }
    // A click on the backdrop lands on the dialog element itself, outside its content box.
    if (dialog && event.target === dialog) {
      var box = dialog.getBoundingClientRect();
      var inside = event.clientX >= box.left && event.clientX <= box.right && event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) {
        dialog.close();
      }
    }
  });

  // A closed drawer keeps nothing: the next open starts from a fresh list.
  document.addEventListener("close", function (event) {
    if (event.target === drawer()) {
      document.getElementById("model-drawer-body").replaceChildren();
    }
  }, true);
})();
