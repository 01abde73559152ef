/* The one-page digest editor (templates/admin/papers/digest/editor.html). The page works
   without this file as a plain form: its move, add, remove and comment buttons post it
   (``move`` / ``then``), so the typed text is saved before the server does what they ask.
   This adds:
   - text boxes that grow with their text, and per-section character counters;
   - the preview beside the form, re-rendered by the server (the public templates) a moment
     after typing stops, with the checks panel;
   - autosave a few seconds after typing stops and when the tab is hidden or closed, one
     request at a time, each sending the version it is based on; a conflict (someone else
     saved) is shown and autosave stops until the editor chooses;
   - reordering papers by drag and drop, by the move buttons and by Alt+Up / Alt+Down;
   - adding a paper by arXiv id and removing one (after a confirmation), each after the
     typed text is saved, so the version the page works from stays the stored one;
   - replying to, resolving and reopening reviewers' comments in place.
   Those buttons are caught here and sent to their own addresses (their data-url); the add
   box and reply boxes (data-action-field) are never part of a save or a preview. */
(function () {
  "use strict";

  var PREVIEW_DELAY = 400;
  var SAVE_DELAY = 2000;

  var form = document.getElementById("editor-form");
  if (!form || !window.fetch) {
    return;
  }
  var list = document.getElementById("editor-entries");
  var statusLine = document.getElementById("editor-status");
  var version = document.getElementById("base-version");
  var conflictBox = document.getElementById("editor-conflict");
  var conflictText = document.getElementById("editor-conflict-text");
  var frame = document.getElementById("editor-preview");
  var checks = document.getElementById("editor-checks");
  var text = form.dataset;

  var dirty = false;
  var saving = false;
  var again = false;
  var inConflict = !conflictBox.hidden;
  var saveTimer = null;
  var previewTimer = null;
  var previewSeq = 0;

  function say(message) {
    statusLine.textContent = message;
  }

  // --- text boxes that grow, and counters ----------------------------------------------

  var grows = !(window.CSS && CSS.supports && CSS.supports("field-sizing", "content"));

  function fit(box) {
    if (grows) {
      box.style.height = "auto";
      box.style.height = box.scrollHeight + 2 + "px";
    }
  }

  function count(box) {
    var counter = document.getElementById(box.id + "-count");
    if (counter) {
      counter.querySelector("[data-count]").textContent = Array.from(box.value).length;
    }
  }

  Array.prototype.forEach.call(form.querySelectorAll("textarea.editor-grow"), fit);

  // --- the data sent: the form as it stands -----------------------------------------------

  function formData() {
    var data = new FormData(form);
    data.delete("move");
    Array.prototype.forEach.call(form.querySelectorAll("[data-action-field]"), function (field) {
      data.delete(field.name);
    });
    return data;
  }

  // How many requests are on their way or waiting for a pause in typing, on the form as
  // data-busy (tests wait for 0 before closing the page).
  var inflight = 0;

  function busy() {
    form.dataset.busy = inflight + (saveTimer ? 1 : 0) + (previewTimer ? 1 : 0);
  }

  function post(url, options) {
    inflight += 1;
    busy();
    function done(value) {
      inflight -= 1;
      busy();
      return value;
    }
    return request(url, options).then(done, function (error) {
      done();
      throw error;
    });
  }

  function request(url, options) {
    return fetch(
      url,
      Object.assign(
        {
          method: "POST",
          body: formData(),
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", Accept: "application/json" },
        },
        options || {}
      )
    );
  }

  // --- preview and checks ------------------------------------------------------------------

  function previewSoon() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, PREVIEW_DELAY);
    busy();
  }

  function preview() {
    previewTimer = null;
    var seq = ++previewSeq;
    post(text.previewUrl)
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        if (!answer || seq !== previewSeq) {
          return; // an older answer arriving late never replaces a newer one
        }
        var doc = frame.contentDocument;
        var article = doc && doc.querySelector("article.digest");
        if (article) {
          var scroll = doc.scrollingElement ? doc.scrollingElement.scrollTop : 0;
          article.outerHTML = answer.html;
          if (doc.scrollingElement) {
            doc.scrollingElement.scrollTop = scroll;
          }
        }
        checks.innerHTML = answer.checks;
        form.dispatchEvent(new CustomEvent("editor:previewed"));
      })
      .catch(function () {});
  }

  // --- autosave ----------------------------------------------------------------------------

  function changed() {
    dirty = true;
    if (!inConflict) {
      say(text.textUnsaved);
      clearTimeout(saveTimer);
      saveTimer = setTimeout(save, SAVE_DELAY);
    }
    previewSoon();
  }

  function clearErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".editor-error.from-save"), function (node) {
      node.remove();
    });
  }

  function showErrors(errors) {
    clearErrors();
    Object.keys(errors || {}).forEach(function (name) {
      var field = document.getElementById("id_" + name);
      var note = document.createElement("p");
      note.className = "errornote editor-error from-save";
      note.id = "id_" + name + "-saveerror";
      note.textContent = errors[name];
      if (field) {
        field.insertAdjacentElement("afterend", note);
        field.setAttribute("aria-describedby", note.id);
      } else {
        statusLine.insertAdjacentElement("afterend", note);
      }
    });
  }

  function showConflict(answer) {
    inConflict = true;
    // Without a version to build on (the digest went live meanwhile) only a reload helps.
    conflictBox.dataset.latest = answer.latest_version || "";
    document.getElementById("editor-overwrite").hidden = !answer.latest_version;
    conflictText.textContent = answer.conflict || answer.message;
    conflictBox.hidden = false;
    say(answer.conflict || answer.message);
  }

  function save(keepalive) {
    clearTimeout(saveTimer);
    saveTimer = null;
    busy();
    if (!dirty || inConflict) {
      return;
    }
    if (saving) {
      again = true;
      return;
    }
    saving = true;
    dirty = false;
    say(text.textSaving);
    var url = form.action || window.location.href;
    // fetch() rejects (it never throws) a keepalive body over the browser's 64 KB: then an
    // ordinary request, which may still finish as the tab goes.
    var request = keepalive
      ? post(url, { keepalive: true }).catch(function () { return post(url); })
      : post(url, {});
    request
      .then(function (response) {
        return response.json().then(function (answer) {
          return { status: response.status, answer: answer };
        });
      })
      .then(function (result) {
        saving = false;
        var answer = result.answer;
        if (result.status === 200) {
          version.value = answer.version;
          clearErrors();
          say(answer.saved);
        } else if (result.status === 409) {
          dirty = true;
          showConflict(answer);
        } else {
          dirty = true;
          say(answer.message || text.textInvalid);
          showErrors(answer.errors);
        }
        form.dispatchEvent(new CustomEvent("editor:saved", { detail: result }));
        if (again && result.status === 200) {
          again = false;
          save();
        }
      })
      .catch(function () {
        saving = false;
        dirty = true;
        say(text.textFailed);
        saveTimer = setTimeout(save, SAVE_DELAY * 3);
        busy();
        form.dispatchEvent(new CustomEvent("editor:saved", { detail: { status: 0 } }));
      });
  }

  document.getElementById("editor-overwrite").addEventListener("click", function () {
    // Knowingly replace the stored version: the page is now based on it.
    if (conflictBox.dataset.latest) {
      version.value = conflictBox.dataset.latest;
    }
    inConflict = false;
    conflictBox.hidden = true;
    dirty = true;
    save();
  });

  form.addEventListener("input", function (event) {
    var box = event.target;
    if (box.form !== form || box.hasAttribute("data-action-field")) {
      return; // the add box and reply boxes are not the digest's text
    }
    if (box.tagName === "TEXTAREA") {
      fit(box);
      count(box);
    }
    changed();
  });

  form.addEventListener("submit", function (event) {
    // "Save now" (the move, add, remove and comment buttons are handled below, on their
    // click): save in place, no reload.
    event.preventDefault();
    dirty = true;
    save();
  });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "hidden") {
      save(true);
    }
  });
  window.addEventListener("pagehide", function () {
    save(true);
  });

  // The preview shows the paper being edited: focusing a field of paper N scrolls the
  // frame to its block (the public page's anchor "paper-N").
  var shownEntry = null;
  list.addEventListener("focusin", function (event) {
    var item = event.target.closest(".editor-entry");
    var doc = frame.contentDocument;
    if (!item || item === shownEntry || !doc) {
      return;
    }
    shownEntry = item;
    var block = doc.getElementById("paper-" + item.querySelector(".editor-position").textContent);
    if (block && doc.scrollingElement) {
      // Scroll the frame only: scrollIntoView() would scroll this page too, under the
      // pointer of a click that focused the field (the click then lands elsewhere).
      doc.scrollingElement.scrollTop = block.getBoundingClientRect().top + doc.scrollingElement.scrollTop;
    }
  });

  // --- reordering --------------------------------------------------------------------------

  function renumber() {
    Array.prototype.forEach.call(list.children, function (item, index) {
      item.querySelector(".editor-position").textContent = index + 1;
    });
  }

  function moved(item) {
    renumber();
    changed();
    var position = Array.prototype.indexOf.call(list.children, item) + 1;
    say(text.textMoved.replace("{n}", position));
  }

  function move(item, direction) {
    if (direction === "up" && item.previousElementSibling) {
      list.insertBefore(item, item.previousElementSibling);
    } else if (direction === "down" && item.nextElementSibling) {
      list.insertBefore(item.nextElementSibling, item);
    } else {
      return false;
    }
    moved(item);
    return true;
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-move]");
    if (!button) {
      return;
    }
    event.preventDefault();
    move(button.closest(".editor-entry"), button.dataset.move);
    button.focus();
  });

  list.addEventListener("keydown", function (event) {
    if (!event.altKey || (event.key !== "ArrowUp" && event.key !== "ArrowDown")) {
      return;
    }
    var item = event.target.closest(".editor-entry");
    if (item) {
      event.preventDefault();
      var focused = document.activeElement;
      move(item, event.key === "ArrowUp" ? "up" : "down");
      if (focused) {
        focused.focus();
      }
    }
  });

  // Dragging by the handle with pointer events (mouse, touch and pen alike): the paper
  // follows the pointer among the others; it is dropped where the pointer is let go.
  var dragged = null;

  list.addEventListener("pointerdown", function (event) {
    var handle = event.target.closest(".editor-handle");
    if (!handle || event.button !== 0) {
      return;
    }
    event.preventDefault();
    dragged = handle.closest(".editor-entry");
    dragged.classList.add("is-dragged");
    handle.setPointerCapture(event.pointerId);
  });

  list.addEventListener("pointermove", function (event) {
    if (!dragged) {
      return;
    }
    var others = Array.prototype.filter.call(list.children, function (item) {
      return item !== dragged;
    });
    var before = null;
    for (var i = 0; i < others.length; i++) {
      var box = others[i].getBoundingClientRect();
      if (event.clientY < box.top + Math.min(box.height / 2, 60)) {
        before = others[i];
        break;
      }
    }
    if (before !== dragged.nextElementSibling) {
      list.insertBefore(dragged, before);
    }
  });

  function drop() {
    if (dragged) {
      var item = dragged;
      dragged = null;
      item.classList.remove("is-dragged");
      moved(item);
    }
  }

  list.addEventListener("pointerup", drop);
  list.addEventListener("pointercancel", drop);

  // --- adding and removing papers ----------------------------------------------------------

  // Resolves once what is typed is saved (the version is the stored one); rejects with a
  // message when it cannot be (a conflict, invalid fields, no server).
  function flush() {
    return new Promise(function (resolve, reject) {
      function check() {
        if (inConflict) {
          reject(new Error(conflictText.textContent));
        } else if (!saving && !dirty) {
          resolve();
        } else {
          form.addEventListener(
            "editor:saved",
            function (event) {
              var status = event.detail.status;
              if (status === 200) {
                setTimeout(check, 0);
              } else {
                reject(new Error(statusLine.textContent));
              }
            },
            { once: true }
          );
          if (!saving) {
            save();
          }
        }
      }
      check();
    });
  }

  function send(url, data) {
    data.set("base_version", version.value);
    data.set("csrfmiddlewaretoken", form.elements.csrfmiddlewaretoken.value);
    return post(url, { body: data }).then(function (response) {
      return response.json().then(
        function (answer) {
          return { status: response.status, answer: answer };
        },
        function () {
          return { status: response.status, answer: { message: text.textNoAnswer } };
        }
      );
    });
  }

  var addBox = document.getElementById("editor-add-arxiv");
  var addStatus = document.getElementById("editor-add-status");
  var addButton = document.getElementById("editor-add-button");

  function added(answer) {
    var holder = document.createElement("ol");
    holder.innerHTML = answer.html;
    var item = holder.firstElementChild;
    list.appendChild(item);
    Array.prototype.forEach.call(item.querySelectorAll("textarea.editor-grow"), fit);
    renumber();
    version.value = answer.version;
    addBox.value = "";
    addStatus.textContent = answer.saved;
    say(answer.saved);
    previewSoon();
    item.querySelector("input[type=text], textarea").focus();
  }

  function addPaper() {
    var data = new FormData();
    data.set("arxiv", addBox.value);
    return send(addButton.dataset.url, data).then(function (result) {
      var answer = result.answer;
      if (result.status === 200) {
        added(answer);
      } else if (result.status === 202) {
        addStatus.textContent = answer.message;
        return waitForArxiv(answer.pending);
      } else if (result.status === 409) {
        showConflict(answer);
        addStatus.textContent = answer.conflict || answer.message;
      } else {
        addStatus.textContent = answer.message || text.textNoAnswer;
      }
    });
  }

  // The paper is fetched from arXiv on the worker: ask every second whether it is there,
  // then send the same request again.
  function waitForArxiv(url) {
    return new Promise(function (resolve) {
      setTimeout(resolve, 1000);
    })
      .then(function () {
        return fetch(url, {
          credentials: "same-origin",
          headers: { "X-Requested-With": "fetch", Accept: "application/json" },
        });
      })
      .then(function (response) {
        return response.json();
      })
      .then(function (answer) {
        if (answer.pending) {
          return waitForArxiv(url);
        }
        if (answer.error) {
          addStatus.textContent = answer.error;
          return null;
        }
        return addPaper();
      });
  }

  function startAdding() {
    if (addButton.disabled) {
      return;
    }
    addButton.disabled = true;
    addStatus.textContent = text.textAdding;
    flush()
      .then(addPaper)
      .catch(function (error) {
        addStatus.textContent = (error && error.message) || text.textNoAnswer;
      })
      .then(function () {
        addButton.disabled = false;
      });
  }

  addButton.addEventListener("click", function (event) {
    event.preventDefault();
    startAdding();
  });

  // Enter in the add box adds (it would submit the form by its first button, "Save now").
  addBox.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      startAdding();
    }
  });

  function removePaper(button) {
    var item = button.closest(".editor-entry");
    var title = item.querySelector("h3 [lang]").textContent;
    if (!window.confirm(text.textConfirmRemove.replace("{title}", title))) {
      return;
    }
    flush()
      .then(function () {
        return send(button.dataset.url, new FormData());
      })
      .then(function (result) {
        var answer = result.answer;
        if (result.status === 200) {
          var next = item.nextElementSibling || item.previousElementSibling;
          item.remove();
          renumber();
          version.value = answer.version;
          say(answer.saved);
          previewSoon();
          (next ? next.querySelector(".editor-remove") : addBox).focus();
        } else if (result.status === 409) {
          showConflict(answer);
        } else {
          say(answer.message || text.textNoAnswer);
        }
      })
      .catch(function (error) {
        say((error && error.message) || text.textNoAnswer);
      });
  }

  list.addEventListener("click", function (event) {
    var button = event.target.closest("button.editor-remove");
    if (button) {
      event.preventDefault();
      removePaper(button);
    }
  });

  // --- reviewers' comments -----------------------------------------------------------------

  // A comment's buttons: then="reply:<id>", "resolve:<id>" or "reopen:<id>".
  form.addEventListener("click", function (event) {
    var button = event.target.closest("button[name=then]");
    var asked = button && /^(reply|resolve|reopen):(\d+)$/.exec(button.value);
    if (!asked) {
      return;
    }
    event.preventDefault();
    var action = asked[1];
    var id = asked[2];
    var data = new FormData();
    data.set("action", action);
    if (action === "reply") {
      data.set("body", document.getElementById("review-reply-" + id).value);
    }
    send(document.getElementById("review-" + id).dataset.url, data)
      .then(function (result) {
        var answer = result.answer;
        var thread = document.getElementById("review-" + id);
        if (result.status !== 200) {
          say(answer.message || text.textNoAnswer);
          return;
        }
        thread.outerHTML = answer.html;
        Array.prototype.forEach.call(document.querySelectorAll("[data-counter]"), function (node) {
          if (node.dataset.counter in answer.counters) {
            node.innerHTML = answer.counters[node.dataset.counter];
          }
        });
        say(answer.message);
        thread = document.getElementById("review-" + id);
        var focus =
          action === "reply"
            ? thread.querySelector("textarea")
            : thread.querySelector("button[value^='resolve:'], button[value^='reopen:']");
        if (focus) {
          focus.focus();
        }
      })
      .catch(function () {
        say(text.textNoAnswer);
      });
  });
})();
