// Our page script: no application logic, just small conveniences that
// the CSP allows (no inline handlers anywhere).
(function () {
  'use strict';
  document.addEventListener('submit', function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    var question = form.getAttribute('data-confirm');
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // A write button disables itself while its request is in flight; the
    // server still guarantees the write happens once. An htmx form is htmx's
    // to disable and enable again (hx-disabled-elt): disabled here, it would
    // stay disabled after a failed request, and the nurse could not retry.
    // The attribute, not form.method: a field named "method" (the contact
    // form's) shadows that property with the field's element.
    if ((form.getAttribute('method') || '').toLowerCase() === 'post' && !form.hasAttribute('hx-post')) {
      setTimeout(function () {
        form.querySelectorAll('button[type=submit], button:not([type])').forEach(function (b) {
          b.disabled = true;
          b.setAttribute('aria-busy', 'true');
        });
      }, 0);
    }
  });
  // A button marked data-print prints the page (the treatment card).
  document.addEventListener('click', function (event) {
    var target = event.target;
    if (!(target instanceof Element) || !target.closest('[data-print]')) return;
    event.preventDefault();
    window.print();
  });
  // Back/forward cache could show a page with disabled buttons: re-enable them.
  window.addEventListener('pageshow', function () {
    document.querySelectorAll('button[aria-busy=true]').forEach(function (b) {
      b.disabled = false;
      b.removeAttribute('aria-busy');
    });
  });
})();
