// Loaded before charts-selftest.js (a file, not inline: the web lab's Content-Security-Policy allows no inline script).
// A module that does not parse or load never reaches the end of the test: say FAIL at once, not a time-out.
function failed(message) {
    if (!document.body.dataset.result) {
        document.body.dataset.result = 'FAIL';
        document.getElementById('summary').textContent = `FAIL: ${message}`;
    }
}
addEventListener('error', e => failed(e.message || 'a script did not load'), true);
