/*
 * Tierline: the little behaviour the server-rendered pages need.
 *
 * Load it after htmx: <script src="{% static 'tierline/app.js' %}" defer></script>
 * No inline handlers anywhere (CSP script-src 'self'): markup opts in with data- attributes.
 *
 * <meta name="csrf-token" content="{{ csrf_token }}">  X-CSRFToken header on every htmx request
 * [data-timer]               counts mm:ss from page load (or from data-timer-start="<seconds>")
 *   data-timer-input="x"     on submit, the seconds go into <input name="x"> of the submitted form
 * [data-confirm="Sure?"]     button/link: confirm() before it acts; form: confirm() before submit
 * [data-select-all]          checkbox that ticks every input[name=ids] in its form (or table)
 * [data-selected-count]      shows how many ids are ticked; its .bulk-bar gets .is-empty at 0
 *                            and its buttons and selects are disabled
 * [data-hotkey-search]       the field "/" focuses (default: the search box in .topbar)
 * [data-hotkey-queue]        the link "g q" follows; [data-hotkey-go="x"] for "g x"
 * [data-nav-row]             a list row "j"/"k" select (class .is-current, focus on its
 *   [data-nav-link], or its first link); Enter opens that link
 * <dialog id="shortcuts">    "?" opens it; its [data-shortcuts-go] list is filled with the
 *   "g x" links of the page when it opens
 * No single-key shortcut fires while typing in a field, with Ctrl/Alt/Cmd held, or while a
 * dialog is open.
 * [data-dialog-open="id"]    opens <dialog id="id"> as a modal; [data-dialog-close] closes it;
 *   <dialog data-light-dismiss> also closes on a click on the backdrop
 *   <dialog data-dialog-src="url"> is a shell: on its first opening it shows its placeholder,
 *   then htmx GETs url (HX-Request) into it and the first field gets focus; a failed load
 *   closes it again (the htmx error message says why). The opener is best a link to the same
 *   url: it works without JavaScript, and ctrl/shift/cmd-click still opens it in a new tab
 * dialog[open] from the server (a refused form) is re-opened as a modal on load
 * details.more-actions       closes on outside click, on Escape, and after an item opened a dialog
 * .sidebar .nav              on a phone a strip that scrolls sideways: its current link is
 *   scrolled into view
 * [data-fill-target="id"]    button (hidden until this script shows it): puts its data-fill-text
 *   into the textarea #id (replacing what is there only after a confirm), focuses it; never sends
 *
 * Nothing submits itself when a select changes (WCAG 3.2.2): a keyboard user arrows through a
 * select's options, and every arrow is a change event; a form acts on its button only.
 *
 * htmx error responses (4xx/5xx, network) show a .message.error in .messages.
 */
(function () {
  "use strict";

  // htmx 2 would add a <style> for its indicators, which style-src 'self' refuses (and logs).
  // Deferred scripts run before htmx's DOMContentLoaded start-up, so this still counts;
  // the indicator rules are in app.css.
  if (window.htmx && window.htmx.config) {
    window.htmx.config.includeIndicatorStyles = false;
  }

  // ---- helpers ----------------------------------------------------------------------------

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function isTyping(target) {
    if (!target || !(target instanceof Element)) return false;
    if (target.isContentEditable) return true;
    var tag = target.tagName;
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["checkbox", "radio", "button", "submit", "reset", "range", "color"].indexOf(type) < 0;
    }
    return false;
  }

  function each(root, selector, fn) {
    var nodes = [];
    if (root.matches && root.matches(selector)) nodes.push(root);
    if (root.querySelectorAll) {
      nodes = nodes.concat(Array.prototype.slice.call(root.querySelectorAll(selector)));
    }
    nodes.forEach(fn);
  }

  // ---- (e) CSRF on htmx requests ------------------------------------------------------------

  document.addEventListener("htmx:configRequest", function (event) {
    var token = csrfToken();
    if (token) event.detail.headers["X-CSRFToken"] = token;
  });

  // htmx ignores error responses silently; say something so work is not lost unnoticed.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    var status = xhr.status + (xhr.statusText ? " " + xhr.statusText : "");
    showMessage(
      "error",
      "The server answered " + status + ": nothing was changed. Reload the page and try again.",
    );
  });
  document.addEventListener("htmx:sendError", function () {
    showMessage("error", "Could not reach the server. Check the connection and try again.");
  });

  function showMessage(level, text) {
    var list = document.querySelector(".messages");
    if (!list) {
      var main = document.querySelector("main.content, .content, main");
      if (!main) return;
      list = document.createElement("div");
      list.className = "messages";
      main.insertBefore(list, main.firstChild);
    }
    var item = document.createElement("div"); // as _messages.html: no role on an <li>
    item.className = "message " + level;
    item.setAttribute("role", "alert");
    item.textContent = text;
    list.appendChild(item);
  }

  // ---- (a) call timer ---------------------------------------------------------------------

  var timers = [];

  function formatElapsed(seconds) {
    var h = Math.floor(seconds / 3600);
    var m = Math.floor((seconds % 3600) / 60);
    var s = seconds % 60;
    var mm = (m < 10 ? "0" : "") + m;
    var ss = (s < 10 ? "0" : "") + s;
    return h > 0 ? h + ":" + mm + ":" + ss : mm + ":" + ss;
  }

  function elapsedSeconds(timer) {
    return timer.offset + Math.floor((Date.now() - timer.started) / 1000);
  }

  function initTimer(el) {
    if (el.tlTimer) return;
    var offset = parseInt(el.getAttribute("data-timer-start") || "0", 10);
    var timer = { el: el, started: Date.now(), offset: isNaN(offset) ? 0 : offset };
    el.tlTimer = timer;
    timers.push(timer);
    el.setAttribute("role", "timer");
    el.textContent = formatElapsed(elapsedSeconds(timer));
  }

  function tickTimers() {
    timers = timers.filter(function (t) {
      return t.el.isConnected;
    });
    timers.forEach(function (t) {
      t.el.textContent = formatElapsed(elapsedSeconds(t));
    });
  }
  window.setInterval(tickTimers, 1000);

  // The timer's seconds for a given form: fill input[name=<data-timer-input>] inside it.
  function fillTimerInputs(form) {
    timers.forEach(function (t) {
      var name = t.el.getAttribute("data-timer-input");
      if (!name || !t.el.isConnected) return;
      var seconds = String(elapsedSeconds(t));
      // form.elements also holds inputs tied to the form with form="…" from elsewhere.
      Array.prototype.forEach.call(form.elements, function (input) {
        if (input.tagName === "INPUT" && input.name === name) input.value = seconds;
      });
    });
  }

  // ---- (b) confirm ------------------------------------------------------------------------

  // Capture phase on document: runs before htmx's own listeners on the element, so a "Cancel"
  // stops the request as well as a normal submit.
  document.addEventListener(
    "click",
    function (event) {
      var el = event.target instanceof Element ? event.target.closest("[data-confirm]") : null;
      if (!el || el.tagName === "FORM") return;
      if (!window.confirm(el.getAttribute("data-confirm") || "Are you sure?")) {
        event.preventDefault();
        event.stopImmediatePropagation();
        return;
      }
      // Confirmed on the button: do not ask again for its form.
      if (el.form) el.form.tlConfirmed = true;
    },
    true,
  );

  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      if (form.hasAttribute("data-confirm") && !form.tlConfirmed) {
        if (!window.confirm(form.getAttribute("data-confirm") || "Are you sure?")) {
          event.preventDefault();
          event.stopImmediatePropagation();
          return;
        }
      }
      form.tlConfirmed = false;
      fillTimerInputs(form);
    },
    true,
  );

  // htmx may build a request from a form without a submit event (hx-trigger="change", a button
  // with hx-post inside the form); put the timer's seconds into the parameters then too.
  document.addEventListener("htmx:configRequest", function (event) {
    var params = event.detail.parameters;
    timers.forEach(function (t) {
      var name = t.el.getAttribute("data-timer-input");
      if (!name || !t.el.isConnected) return;
      var elt = event.detail.elt;
      var form = elt && elt.closest ? elt.closest("form") : null;
      var hasField =
        form &&
        Array.prototype.some.call(form.elements, function (input) {
          return input.tagName === "INPUT" && input.name === name;
        });
      if (hasField) {
        if (typeof params.set === "function") params.set(name, String(elapsedSeconds(t)));
        else params[name] = String(elapsedSeconds(t));
      }
    });
  });

  // ---- (c) select all -----------------------------------------------------------------------

  function selectionScope(el) {
    return el.closest("form") || el.closest("table") || document;
  }

  function idBoxes(scope) {
    return Array.prototype.slice.call(scope.querySelectorAll('input[type="checkbox"][name="ids"]'));
  }

  function refreshSelection(scope) {
    var boxes = idBoxes(scope).filter(function (b) {
      return !b.disabled;
    });
    var ticked = boxes.filter(function (b) {
      return b.checked;
    }).length;
    each(scope, "[data-select-all]", function (all) {
      all.checked = boxes.length > 0 && ticked === boxes.length;
      all.indeterminate = ticked > 0 && ticked < boxes.length;
    });
    // Counters may sit outside the form (form="…" attribute); look in the whole document then.
    var counters = scope.querySelectorAll ? scope.querySelectorAll("[data-selected-count]") : [];
    if (!counters.length) counters = document.querySelectorAll("[data-selected-count]");
    Array.prototype.forEach.call(counters, function (c) {
      c.textContent = String(ticked);
      var bar = c.closest(".bulk-bar");
      if (!bar) return;
      bar.classList.toggle("is-empty", ticked === 0);
      // Greyed out must also mean disabled, for the keyboard and screen readers alike.
      each(bar, "button, select", function (control) {
        control.disabled = ticked === 0;
      });
    });
  }

  document.addEventListener("change", function (event) {
    var el = event.target;
    if (!(el instanceof HTMLInputElement) || el.type !== "checkbox") return;
    var scope = selectionScope(el);
    if (el.hasAttribute("data-select-all")) {
      idBoxes(scope).forEach(function (b) {
        if (!b.disabled) b.checked = el.checked;
      });
      refreshSelection(scope);
    } else if (el.name === "ids") {
      refreshSelection(scope);
    }
  });

  // Shift-click ticks a range of rows, as in a mail client.
  var lastTicked = null;
  document.addEventListener("click", function (event) {
    var el = event.target;
    if (!(el instanceof HTMLInputElement) || el.type !== "checkbox" || el.name !== "ids") return;
    if (event.shiftKey && lastTicked && lastTicked !== el && lastTicked.isConnected) {
      var boxes = idBoxes(selectionScope(el));
      var a = boxes.indexOf(lastTicked);
      var b = boxes.indexOf(el);
      if (a >= 0 && b >= 0) {
        boxes.slice(Math.min(a, b), Math.max(a, b) + 1).forEach(function (box) {
          if (!box.disabled) box.checked = el.checked;
        });
        refreshSelection(selectionScope(el));
      }
    }
    lastTicked = el;
  });

  // ---- (d) keyboard -----------------------------------------------------------------------

  var pendingG = 0;

  function searchField() {
    return (
      document.querySelector("[data-hotkey-search]") ||
      document.querySelector('.topbar input[type="search"], .topbar input[name="q"]')
    );
  }

  function follow(link) {
    if (!link) return false;
    if (link.tagName === "A" && link.href) window.location.assign(link.href);
    else link.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) return;
    if (isTyping(event.target)) return;
    if (document.querySelector("dialog[open]")) return;

    var key = event.key;
    if (pendingG && Date.now() - pendingG < 1500) {
      pendingG = 0;
      var target = null;
      if (key === "q") {
        target = document.querySelector("[data-hotkey-queue]");
      } else if (/^[a-z0-9]$/i.test(key)) {
        target = document.querySelector('[data-hotkey-go="' + key + '"]');
      }
      if (follow(target)) event.preventDefault();
      return;
    }
    pendingG = 0;

    if (key === "/") {
      var field = searchField();
      if (field) {
        event.preventDefault();
        field.focus();
        if (field.select) field.select();
      }
    } else if (key === "g") {
      pendingG = Date.now();
    } else if (key === "?") {
      if (openShortcuts()) event.preventDefault();
    } else if (key === "j" || key === "k") {
      if (moveSelection(key === "j" ? 1 : -1)) event.preventDefault();
    } else if (key === "Enter" && !isInteractive(event.target)) {
      // Focus on a link or button: the browser follows or presses it itself.
      var row = document.querySelector("[data-nav-row].is-current");
      if (row && follow(rowLink(row))) event.preventDefault();
    }
  });

  // Whether Enter on this element does something of its own (follow, press, submit).
  function isInteractive(target) {
    if (!(target instanceof Element)) return false;
    if (target.matches("a[href], button, input, select, textarea, summary")) return true;
    var tabindex = target.getAttribute("tabindex");
    return target.isContentEditable || (tabindex !== null && tabindex !== "-1");
  }

  // ---- (f) list rows: j / k / Enter ---------------------------------------------------------

  function navRows() {
    return Array.prototype.filter.call(document.querySelectorAll("[data-nav-row]"), function (row) {
      return row.getClientRects().length > 0;
    });
  }

  function rowLink(row) {
    return row.querySelector("[data-nav-link]") || row.querySelector("a[href]");
  }

  function currentRow(rows) {
    var active = document.activeElement;
    var holder = active && active.closest ? active.closest("[data-nav-row]") : null;
    if (holder && rows.indexOf(holder) >= 0) return holder;
    var marked = document.querySelector("[data-nav-row].is-current");
    return marked && rows.indexOf(marked) >= 0 ? marked : null;
  }

  function selectRow(row) {
    markCurrent(row);
    var link = rowLink(row);
    if (link) link.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  // The first j or k selects the first row; then one row down or up, stopping at the ends.
  function moveSelection(step) {
    var rows = navRows();
    if (!rows.length) return false;
    var current = currentRow(rows);
    var index = current ? rows.indexOf(current) + step : 0;
    selectRow(rows[Math.max(0, Math.min(rows.length - 1, index))]);
    return true;
  }

  // A click or Tab elsewhere in the list moves the selection with the focus.
  document.addEventListener("focusin", function (event) {
    var row = event.target instanceof Element ? event.target.closest("[data-nav-row]") : null;
    if (row) markCurrent(row);
  });

  function markCurrent(row) {
    var marked = document.querySelectorAll("[data-nav-row].is-current");
    Array.prototype.forEach.call(marked, function (r) {
      if (r !== row) r.classList.remove("is-current");
    });
    row.classList.add("is-current");
  }

  // ---- (g) the shortcut list ("?") ------------------------------------------------------------

  // The "g x" lines come from the links that carry them, so the list says what this page does.
  function fillGoShortcuts(dialog) {
    var list = dialog.querySelector("[data-shortcuts-go]");
    if (!list) return;
    list.textContent = "";
    var links = document.querySelectorAll("[data-hotkey-queue], [data-hotkey-go]");
    Array.prototype.forEach.call(links, function (link) {
      var key = link.hasAttribute("data-hotkey-queue") ? "q" : link.getAttribute("data-hotkey-go");
      var name = link.cloneNode(true);
      Array.prototype.forEach.call(name.querySelectorAll(".count"), function (c) {
        c.remove();
      });
      var dt = document.createElement("dt");
      var g = document.createElement("kbd");
      g.textContent = "g";
      var k = document.createElement("kbd");
      k.textContent = key;
      dt.appendChild(g);
      dt.appendChild(document.createTextNode(" then "));
      dt.appendChild(k);
      var dd = document.createElement("dd");
      dd.textContent = "Go to " + name.textContent.trim();
      list.appendChild(dt);
      list.appendChild(dd);
    });
  }

  function openShortcuts() {
    var dialog = document.getElementById("shortcuts");
    if (!dialog || typeof dialog.showModal !== "function" || dialog.open) return false;
    fillGoShortcuts(dialog);
    dialog.showModal();
    return true;
  }

  // Escape leaves the search box, so the single-key shortcuts work again.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && event.target === searchField()) event.target.blur();
  });

  // ---- dialogs ----------------------------------------------------------------------------

  function focusFirstField(dialog) {
    var first = dialog.querySelector("[autofocus], input:not([type=hidden]), select, textarea");
    if (first) first.focus();
  }

  // A shell's content comes from its data-dialog-src, once; the dialog is shown meanwhile with
  // its placeholder ([data-dialog-placeholder]), which a successful swap replaces.
  function loadDialog(dialog) {
    if (dialog.tlLoading) return;
    dialog.tlLoading = true;
    var src = dialog.getAttribute("data-dialog-src");
    var done = function () {
      dialog.tlLoading = false;
      // htmx resolves after an error answer too (and swaps nothing): still the placeholder.
      if (dialog.querySelector("[data-dialog-placeholder]")) {
        dialog.close();
        return;
      }
      // Not the action's form (a sign-in page after the session ran out, say): go to the
      // action's own page instead, which leads through sign-in and back.
      var forms = Array.prototype.filter.call(dialog.querySelectorAll("form"), function (f) {
        return f.getAttribute("action") === src;
      });
      if (!forms.length) {
        dialog.close();
        window.location.assign(src);
        return;
      }
      dialog.setAttribute("data-dialog-loaded", "");
      if (dialog.open) focusFirstField(dialog);
    };
    window.htmx.ajax("GET", src, { target: dialog, swap: "innerHTML" }).then(done, done);
  }

  function needsLoading(dialog) {
    return dialog.hasAttribute("data-dialog-src") && !dialog.hasAttribute("data-dialog-loaded");
  }

  document.addEventListener("click", function (event) {
    if (!(event.target instanceof Element)) return;
    var opener = event.target.closest("[data-dialog-open]");
    if (opener) {
      // A link opener with a modifier key: the browser opens its page in a new tab or window.
      if (opener.tagName === "A" && (event.ctrlKey || event.metaKey || event.shiftKey)) return;
      var dialog = document.getElementById(opener.getAttribute("data-dialog-open"));
      if (!dialog || typeof dialog.showModal !== "function") return;
      // Without htmx a shell cannot be filled: let a link opener lead to the action's page.
      if (needsLoading(dialog) && !window.htmx && opener.tagName === "A") return;
      event.preventDefault();
      fillGoShortcuts(dialog);
      if (!dialog.open) dialog.showModal();
      if (needsLoading(dialog) && window.htmx) loadDialog(dialog);
      else focusFirstField(dialog);
      return;
    }
    var closer = event.target.closest("[data-dialog-close]");
    if (closer) {
      var owner = closer.closest("dialog");
      if (owner) {
        event.preventDefault();
        owner.close();
      }
      return;
    }
    // A click on the backdrop (the dialog element itself, outside its content) closes it.
    // Only for dialogs marked data-light-dismiss: a form in a dialog should not vanish by accident.
    var d = event.target;
    if (d.tagName === "DIALOG" && d.open && d.hasAttribute("data-light-dismiss")) {
      var r = d.getBoundingClientRect();
      var inside =
        event.clientX >= r.left &&
        event.clientX <= r.right &&
        event.clientY >= r.top &&
        event.clientY <= r.bottom;
      if (!inside) d.close();
    }
  });

  // ---- <details> menus (details.more-actions) ----------------------------------------------

  // Close an open menu on a click outside it, on Escape, and once one of its items was used.
  document.addEventListener("click", function (event) {
    var inside = event.target instanceof Element ? event.target.closest("details") : null;
    Array.prototype.forEach.call(
      document.querySelectorAll("details.more-actions[open]"),
      function (d) {
        var usedItem = d === inside && event.target.closest("[data-dialog-open]");
        if (d !== inside || usedItem) d.removeAttribute("open");
      },
    );
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var open = document.querySelector("details.more-actions[open]");
    if (open) {
      open.removeAttribute("open");
      var summary = open.querySelector("summary");
      if (summary) summary.focus();
    }
  });

  // ---- start, and again for content htmx swaps in --------------------------------------------

  // A dialog the server sent with the open attribute (a refused form) becomes a real modal,
  // so focus is trapped and Escape closes it.
  function promoteOpenDialog(dialog) {
    if (typeof dialog.showModal !== "function") return;
    var modal = false;
    try {
      modal = dialog.matches(":modal");
    } catch (e) {
      modal = false;
    }
    if (modal) return;
    dialog.close();
    dialog.showModal();
  }

  // On a phone the workspace links are a strip that scrolls sideways (its right end fades
  // out): scroll it just enough to show the current link clear of the fade.
  function revealCurrentNavLink(nav) {
    if (nav.scrollWidth <= nav.clientWidth) return;
    var current = nav.querySelector('[aria-current="page"]');
    if (!current) return;
    var n = nav.getBoundingClientRect();
    var c = current.getBoundingClientRect();
    var clear = n.left + n.width * 0.85;
    if (c.right > clear) nav.scrollLeft += Math.min(c.right - clear, c.left - n.left);
    else if (c.left < n.left) nav.scrollLeft -= n.left - c.left;
    markScrolled(nav);
  }

  // A strip scrolled from its start fades at the left too (.is-scrolled), not cut mid-word.
  function markScrolled(nav) {
    nav.classList.toggle("is-scrolled", nav.scrollLeft > 0);
  }
  document.addEventListener(
    "scroll",
    function (event) {
      var nav = event.target;
      if (nav instanceof Element && nav.matches(".sidebar .nav")) markScrolled(nav);
    },
    true,
  );

  // "Reply with this": the text goes into the reply box; sending stays the person's act.
  document.addEventListener("click", function (event) {
    var el = event.target instanceof Element ? event.target.closest("[data-fill-target]") : null;
    if (!el) return;
    var box = document.getElementById(el.getAttribute("data-fill-target"));
    if (!box) return;
    event.preventDefault();
    if (box.value.trim() && !window.confirm("Replace what you have written with this text?")) return;
    box.value = el.getAttribute("data-fill-text") || "";
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
  });

  function init(root) {
    each(root, "[data-fill-target]", function (el) {
      if (document.getElementById(el.getAttribute("data-fill-target"))) el.hidden = false;
    });
    each(root, "dialog[open]", promoteOpenDialog);
    each(root, ".sidebar .nav", revealCurrentNavLink);
    each(root, "[data-timer]", initTimer);
    each(root, "[data-select-all], [data-selected-count]", function (el) {
      refreshSelection(selectionScope(el));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () {
      init(document);
    });
  } else {
    init(document);
  }
  document.addEventListener("htmx:load", function (event) {
    if (event.detail && event.detail.elt) init(event.detail.elt);
  });
})();
