/* Reading: the theme switch (system / light / dark, remembered in localStorage) and the
   view-count beacon (once per tab session and page; its answer updates the shown count).
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

  // The page may come from the page cache, so its view count is as old as the cached copy:
  // the beacon answers with the current count and the page shows it.
  function showViews(response) {
    if (!response || response.status !== 200) return;
    response.json().then(function (data) {
      if (typeof data.views !== "number") return;
      var shown = document.querySelectorAll("[data-view-count]");
      for (var i = 0; i < shown.length; i++) {
        shown[i].textContent = String(data.views);
      }
    }).catch(function () { /* keep the cached number */ });
  }

  function sendViewBeacon() {
    var meta = document.querySelector('meta[name="view-beacon"]');
    if (!meta) return;
    var url = meta.getAttribute("content");
    var key = "paperdigest-viewed:" + url;
    try {
      if (window.sessionStorage.getItem(key)) return;
      window.sessionStorage.setItem(key, "1");
    } catch (e) {
      /* no storage: count this view */
    }
    if (window.fetch) {
      // keepalive: the count is sent even if the reader leaves at once, like a beacon.
      window.fetch(url, { method: "POST", keepalive: true, credentials: "omit" })
        .then(showViews)
        .catch(function () { /* offline: nothing to count or show */ });
    } else if (navigator.sendBeacon) {
      navigator.sendBeacon(url);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      setUpToggle();
      sendViewBeacon();
    });
  } else {
    setUpToggle();
    sendViewBeacon();
  }
})();
