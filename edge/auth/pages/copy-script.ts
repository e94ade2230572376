/**
 * /assets/copy.js: progressive enhancement of the ticket page. Without it the ticket is text that one click selects
 * whole (user-select: all); with it the copy button appears and copies the ticket, and says so in a live region.
 */
export const COPY_SCRIPT = `'use strict';
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  var target = document.getElementById(button.getAttribute('data-copy'));
  var status = document.getElementById('copy-status');
  if (!target) return;
  button.hidden = false;
  button.addEventListener('click', function () {
    var text = target.textContent.trim();
    var done = function () { if (status) status.textContent = button.getAttribute('data-copied'); };
    var fallback = function () {
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      if (document.execCommand('copy')) done();
    };
    if (navigator.clipboard && navigator.clipboard.writeText) navigator.clipboard.writeText(text).then(done, fallback);
    else fallback();
  });
});
`;
