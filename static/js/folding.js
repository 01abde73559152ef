/* Digest and paper pages: enhancements of what works without JavaScript.
   - Folded sections are kept in the address's fragment ("#closed=paper-1-gist,paper-2-abstract"),
     so a reload, the back button or a shared link shows the same sections folded.
   - Following a link to a section inside a folded one opens it.
   - The contents menu closes once a paper or section is chosen, and with Escape.
   - Printing shows every section, then restores the folds.
   No inline script anywhere (the site's CSP: script-src 'self'). */
(function () {
  "use strict";
  var PREFIX = "closed=";

  function folds() {
    return Array.prototype.slice.call(document.querySelectorAll("details.fold"));
  }

  function sectionId(fold) {
    var section = fold.parentElement;
    return section && section.id ? section.id : null;
  }

  // The fragment, decoded; a malformed one ("#%E4") is read as written instead of throwing.
  function fragment() {
    var raw = window.location.hash.slice(1);
    try {
      return decodeURIComponent(raw);
    } catch (error) {
      return raw;
    }
  }

  function closedInFragment() {
    var hash = fragment();
    if (hash.indexOf(PREFIX) !== 0) return null;
    return hash.slice(PREFIX.length).split(",").filter(Boolean);
  }

  function writeFragment() {
    var closed = folds()
      .filter(function (fold) { return !fold.open && sectionId(fold); })
      .map(sectionId);
    var url = window.location.pathname + window.location.search;
    if (closed.length) url += "#" + PREFIX + closed.join(",");
    if (url !== window.location.pathname + window.location.search + window.location.hash) {
      window.history.replaceState(window.history.state, "", url);
    }
  }

  var applying = false;

  function applyFragment() {
    var closed = closedInFragment();
    if (closed === null) {
      openTarget();
      return;
    }
    applying = true;
    folds().forEach(function (fold) {
      fold.open = closed.indexOf(sectionId(fold)) < 0;
    });
    applying = false;
  }

  // A link to a section (or to something inside one) opens the folds around its target.
  function openTarget() {
    var id = fragment();
    var target = id && document.getElementById(id);
    if (!target) return;
    var node = target;
    while (node) {
      if (node.matches && node.matches("details.fold") && !node.open) node.open = true;
      if (node.matches && node.matches("section") && node.querySelector(":scope > details.fold")) {
        node.querySelector(":scope > details.fold").open = true;
      }
      node = node.parentElement;
    }
  }

  function setUpFolds() {
    folds().forEach(function (fold) {
      fold.addEventListener("toggle", function () {
        if (!applying) writeFragment();
      });
    });
    applyFragment();
    window.addEventListener("hashchange", applyFragment);
    var printed = null;
    window.addEventListener("beforeprint", function () {
      printed = folds().filter(function (fold) { return !fold.open; });
      applying = true;
      printed.forEach(function (fold) { fold.open = true; });
    });
    window.addEventListener("afterprint", function () {
      (printed || []).forEach(function (fold) { fold.open = false; });
      printed = null;
      applying = false;
    });
  }

  function setUpMenus() {
    var menus = document.querySelectorAll("details.jump-menu");
    Array.prototype.forEach.call(menus, function (menu) {
      var summary = menu.querySelector("summary");
      menu.addEventListener("click", function (event) {
        if (event.target.closest && event.target.closest("a")) menu.open = false;
      });
      menu.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && menu.open) {
          menu.open = false;
          summary.focus();
        }
      });
      document.addEventListener("click", function (event) {
        if (menu.open && !menu.contains(event.target)) menu.open = false;
      });
    });
  }

  function start() {
    setUpFolds();
    setUpMenus();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
