// The counter page's keyboard and network behaviour (no inline script: CSP).
// - After every swap the element marked autofocus takes the focus, so the
//   routine patient is scan + Enter, Enter, Enter.
// - A barcode scanner types characters then Enter. If the focus is on a
//   button when a scan starts, the first character moves the focus to the
//   scan field, so the scanner's Enter never presses a dose button.
// - When the server cannot be reached, a banner says so at once and stays
//   until a request succeeds again: the counter never appears to work offline.
(function () {
  'use strict';
  function scanField() {
    return document.getElementById('scan');
  }
  function focusAutofocus(root) {
    var el = (root || document).querySelector('#counter [autofocus]');
    if (el && typeof el.focus === 'function') {
      el.focus();
      if (el.id === 'scan' && typeof el.select === 'function') el.select();
    }
  }
  document.addEventListener('htmx:afterSettle', function (event) {
    var target = event.detail && event.detail.elt;
    if (target && target.id === 'queue-panel') return;
    focusAutofocus(document);
  });
  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.key.length !== 1) return;
    var active = document.activeElement;
    var tag = active ? active.tagName : '';
    if (tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT') return;
    var field = scanField();
    if (!field) return;
    event.preventDefault();
    field.value = event.key;
    field.focus();
  });
  var banner = function () {
    return document.getElementById('offline');
  };
  function setOffline(off) {
    var b = banner();
    if (b) b.hidden = !off;
    document.body.classList.toggle('is-offline', off);
  }
  document.addEventListener('htmx:sendError', function () {
    setOffline(true);
  });
  document.addEventListener('htmx:timeout', function () {
    setOffline(true);
  });
  document.addEventListener('htmx:afterRequest', function (event) {
    var xhr = event.detail && event.detail.xhr;
    if (xhr && xhr.status > 0) setOffline(false);
    // A request that failed (no network, or a 5xx kept out of the page) leaves
    // the card as it was, but the button pressed was disabled meanwhile and
    // lost the focus: give it back, so Enter retries.
    var elt = event.detail && event.detail.elt;
    if (elt && elt.id === 'queue-panel') return;
    var active = document.activeElement;
    if (!active || active === document.body) focusAutofocus(document);
  });
  // A server fault (5xx) leaves the card as it was, with a banner: what the
  // nurse was doing is not lost, and a retry never records twice.
  document.addEventListener('htmx:beforeSwap', function (event) {
    var xhr = event.detail && event.detail.xhr;
    var fault = document.getElementById('server-error');
    if (xhr && xhr.status >= 500) {
      event.detail.shouldSwap = false;
      if (fault) fault.hidden = false;
    } else if (fault) {
      fault.hidden = true;
    }
  });
  window.addEventListener('offline', function () {
    setOffline(true);
  });
  document.addEventListener('DOMContentLoaded', function () {
    if (navigator.onLine === false) setOffline(true);
    focusAutofocus(document);
  });
})();
