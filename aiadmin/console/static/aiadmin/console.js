// aiadmin console behaviour. No inline scripts anywhere: everything is wired from here.
(function () {
  "use strict";
})();
