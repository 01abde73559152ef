/* Reading: the theme switch (system / light / dark, remembered in localStorage).
   No inline script anywhere. */
(function () {
  "use strict";
  var root = document.documentElement;
  var THEME_KEY = "paperdigest-theme";
  var THEMES = ["system", "light", "dark"];

  function storedTheme() {
    try {
      var value = window.localStorage.getItem(THEME_KEY);
      return THEMES.indexOf(value) >= 0 ? value : "system";
    } catch (e) {
      return "system";
    }
  }

  function applyTheme(theme) {
    if (theme === "system") {
      root.removeAttribute("data-theme");
    } else {
      root.setAttribute("data-theme", theme);
    }
  }

  applyTheme(storedTheme());

  function setUpToggle() {
    var button = document.querySelector(".theme-toggle");
    if (!button) return;
    function show(theme) {
      button.textContent = button.getAttribute("data-label-" + theme);
      button.setAttribute("data-theme-choice", theme);
    }
    show(storedTheme());
    button.hidden = false;
    button.addEventListener("click", function () {
      var next = THEMES[(THEMES.indexOf(storedTheme()) + 1) % THEMES.length];
      try {
        if (next === "system") {
          window.localStorage.removeItem(THEME_KEY);
        } else {
          window.localStorage.setItem(THEME_KEY, next);
        }
      } catch (e) {
        /* private mode: the choice lasts for this page only */
      }
      applyTheme(next);
      show(next);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      setUpToggle();
    });
  } else {
    setUpToggle();
  }
})();
