// The dark/light toggle. Without a stored choice the page follows prefers-color-scheme; the toggle stores
// 'light' or 'dark' in localStorage (read again before the first paint by theme-init.js).

const KEY = 'conclab-theme';
const dark = window.matchMedia('(prefers-color-scheme: dark)');

function effective() {
  return document.documentElement.dataset.theme ?? (dark.matches ? 'dark' : 'light');
}

function label(button) {
  const other = effective() === 'dark' ? 'light' : 'dark';
  const word = document.createElement('span');
  word.className = 'theme-word';
  word.textContent = other === 'dark' ? 'Dark' : 'Light';
  button.replaceChildren(other === 'dark' ? '☾ ' : '☀ ', word);
  button.setAttribute('aria-label', `Switch to the ${other} theme`);
  button.title = `Switch to the ${other} theme (t)`;
}

/** Switches to the other theme and remembers the choice. */
export function toggleTheme() {
  const next = effective() === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem(KEY, next);
  } catch {
    // storage disabled: the choice lasts until the page is left
  }
  const button = document.getElementById('theme-toggle');
  if (button) {
    label(button);
  }
}

/** Wires the header's toggle button. */
export function initTheme() {
  const button = document.getElementById('theme-toggle');
  label(button);
  button.addEventListener('click', toggleTheme);
  dark.addEventListener('change', () => label(button));
}
