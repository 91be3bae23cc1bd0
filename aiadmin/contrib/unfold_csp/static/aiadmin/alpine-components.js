// Alpine components for Unfold's pages under the Content-Security-Policy.
//
// The pages run Alpine's CSP build (static/aiadmin/vendor/alpinejs-csp), which evaluates each x-*
// attribute with its own small parser: one expression per attribute, no arrow functions, no
// statements, and no globals (window, document, localStorage, Unfold's app.js functions).
// Whatever Unfold's templates wrote inline is therefore a registered component or a method here:
//
// - "theme", "searchForm", "searchDropdown", "searchCommand": Unfold's own component functions
//   from unfold/js/app.js, registered so `x-data="theme(...)"` etc. can find them; the search
//   components get the methods our template overrides call instead of multi-statement handlers.
// - "unfoldPage": the body's state (sidebar, active tab), formerly an inline x-data/x-init.
//
// This file is loaded with `defer` before the Alpine script (templates/unfold/layouts/skeleton.html),
// so the listener is in place when Alpine fires "alpine:init". app.js is a plain script in <head>
// and has run by then.
(function () {
  "use strict";

  var SIDEBAR_KEY = "sidebarDesktopOpen";

  function readSidebarDesktopOpen() {
    try {
      var stored = window.localStorage.getItem(SIDEBAR_KEY);
      return stored === null ? true : stored === "1";
    } catch (error) {
      return true;
    }
  }

  function writeSidebarDesktopOpen(value) {
    try {
      window.localStorage.setItem(SIDEBAR_KEY, value ? "1" : "0");
    } catch (error) {
      // Storage unavailable (private mode, quota): the state just isn't remembered.
    }
  }

  function unfoldPage(primaryTab) {
    var hasTabs = primaryTab !== null && primaryTab !== undefined;
    return {
      activeTab: hasTabs ? primaryTab : "",
      sidebarMobileOpen: false,
      sidebarDesktopOpen: readSidebarDesktopOpen(),

      init: function () {
        if (hasTabs) {
          this.activeTab = window.getCurrentTab() || primaryTab;
        }
        this.$watch("sidebarDesktopOpen", function (value) {
          writeSidebarDesktopOpen(value);
        });
      },

      // unfold/helpers/welcomemsg.html: the desktop sidebar toggle (the $watch above stores it).
      toggleSidebarDesktop: function () {
        this.sidebarDesktopOpen = !this.sidebarDesktopOpen;
      },

      // admin/change_form.html: keep the open tab in the URL the form posts to.
      changeFormAction: function () {
        var base = window.location.pathname + window.location.search;
        if (this.activeTab && this.activeTab !== "general") {
          return base + "#" + this.activeTab;
        }
        return base;
      },

      // Sortable changelists and inlines name these app.js callbacks in x-sort / x-on:end. The CSP
      // build refuses to hand out global functions, so they are reached through these wrappers.
      sortRecords: function (event) {
        return window.sortRecords(event);
      },

      moveRecords: function (event) {
        return window.moveRecords(event);
      },
    };
  }

  function searchDropdown() {
    var component = window.searchDropdown();

    // unfold/helpers/search.html: x-on:focus.
    component.openResults = function () {
      this.openSearchResults = true;
      this.currentIndex = 0;
    };

    // unfold/helpers/search.html: x-on:keydown.escape.
    component.handleEscape = function () {
      this.openSearchResults = false;
      var input = this.$refs.searchInput;
      if (input.value === "") {
        input.blur();
      } else {
        input.value = "";
      }
    };

    return component;
  }

  function searchCommand() {
    var component = window.searchCommand();

    // unfold/helpers/command.html: plain Enter (Cmd/Ctrl+Enter have their own handlers).
    component.selectItemOnEnter = function (event, addHistory) {
      if (!event.metaKey && !event.ctrlKey) {
        this.selectItem(addHistory, false);
      }
    };

    return component;
  }

  document.addEventListener("alpine:init", function () {
    var Alpine = window.Alpine;

    Alpine.data("theme", function (defaultTheme) {
      return window.theme(defaultTheme);
    });
    Alpine.data("searchForm", function () {
      return window.searchForm();
    });
    Alpine.data("searchDropdown", searchDropdown);
    Alpine.data("searchCommand", searchCommand);
    Alpine.data("unfoldPage", unfoldPage);
  });
})();
