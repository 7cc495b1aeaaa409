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
  // The queue's refresh every few seconds never moves the focus (someone may
  // be typing in the scan field); the counter's own answers do.
  function isQueueRefresh(event) {
    var xhr = event.detail && event.detail.xhr;
    return !!(xhr && /\/counter\/queue(\?|$)/.test(xhr.responseURL || ''));
  }
  document.addEventListener('htmx:afterSettle', function (event) {
    if (isQueueRefresh(event)) return;
    focusAutofocus(document);
  });
  // A barcode scanner types a burst of characters then Enter. An Enter that
  // comes within a moment of a typed character belongs to that burst: if the
  // focus is not in the scan field (a card swapped in meanwhile and focused
  // its button), it submits the scan, never the button. (Typing in a form
  // field is left alone: there Enter is that field's own.)
  var lastCharAt = 0;
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Enter') return;
    var field = scanField();
    var active = document.activeElement;
    // The burst's own Enter in the scan field ends it.
    if (active === field) {
      lastCharAt = 0;
      return;
    }
    if (!field || !active || active.tagName !== 'BUTTON' || Date.now() - lastCharAt > 150) return;
    event.preventDefault();
    field.focus();
    if (field.value && field.form && typeof field.form.requestSubmit === 'function') field.form.requestSubmit();
  }, true);
  document.addEventListener('keydown', function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || event.key.length !== 1) return;
    lastCharAt = Date.now();
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
    if (isQueueRefresh(event)) return;
    var active = document.activeElement;
    if (!active || active === document.body) focusAutofocus(document);
  });
  // A server fault (5xx) leaves the card as it was, with a banner: what the
  // nurse was doing is not lost, and a retry never records twice.
  document.addEventListener('htmx:beforeSwap', function (event) {
    var xhr = event.detail && event.detail.xhr;
    var fault = document.getElementById('server-error');
    var refused = document.getElementById('counter-error');
    if (xhr && xhr.status >= 500) {
      event.detail.shouldSwap = false;
      if (fault) fault.hidden = false;
      return;
    }
    if (fault) fault.hidden = true;
    // Any other refusal that is not a working area (a 404 of a record gone
    // meanwhile, a 403): keep the card and show the message above it.
    var target = event.detail && event.detail.target;
    if (xhr && xhr.status >= 400 && target && target.id === 'counter' && xhr.responseText.indexOf('id="counter"') < 0) {
      event.detail.shouldSwap = false;
      if (refused) {
        refused.textContent = new DOMParser().parseFromString(xhr.responseText, 'text/html').body.textContent.trim();
        refused.hidden = false;
      }
      return;
    }
    if (refused) refused.hidden = true;
  });
  window.addEventListener('offline', function () {
    setOffline(true);
  });
  document.addEventListener('DOMContentLoaded', function () {
    if (navigator.onLine === false) setOffline(true);
    focusAutofocus(document);
  });
})();
