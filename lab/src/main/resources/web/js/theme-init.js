// Applies the theme chosen with the toggle (kept in localStorage) before the first paint, so a dark-theme reader
// never sees a light flash. Without a stored choice the page follows prefers-color-scheme (see css/app.css).
// A classic script, not a module, so that it runs before the body is drawn; app.js owns the toggle itself.
(function () {
  try {
    var theme = localStorage.getItem('conclab-theme');
    if (theme === 'light' || theme === 'dark') {
      document.documentElement.dataset.theme = theme;
    }
  } catch (e) {
    // storage disabled: follow the system's scheme
  }
})();
