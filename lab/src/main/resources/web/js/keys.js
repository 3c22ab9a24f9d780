// Keyboard navigation. Global keys: "/" focuses the search (going to the catalog first when needed), "t" switches
// the theme, Escape in a field clears a search box or leaves the field. Every other key goes to the page shown,
// which says whether it used it (the catalog: j/k and arrows between cards; a card: j/k and ←/→ to the next or
// previous card, Escape back to the catalog). Keys with Ctrl, Alt or Meta are left to the browser, and so is
// every key typed into a field.

import { toggleTheme } from './theme.js';

let pageKeys = null;

/** Sets the handler of the page now shown: (KeyboardEvent) => true when it used the key. */
export function setPageKeys(handler) {
  pageKeys = handler;
}

function inField(target) {
  return target instanceof Element
    && target.closest('input, textarea, select, [contenteditable=""], [contenteditable="true"]');
}

/** Installs the one keydown listener; focusSearch() is called for "/". */
export function initKeys({ focusSearch }) {
  document.addEventListener('keydown', (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.defaultPrevented) {
      return;
    }
    const field = inField(e.target);
    if (field) {
      if (e.key === 'Escape') {
        if (field.type === 'search' && field.value) {
          field.value = '';
          field.dispatchEvent(new Event('input', { bubbles: true }));
        } else {
          field.blur();
        }
        e.preventDefault();
      }
      return;
    }
    if (e.key === '/') {
      e.preventDefault();
      focusSearch();
    } else if (e.key === 't') {
      toggleTheme();
    } else if (pageKeys && pageKeys(e)) {
      e.preventDefault();
    }
  });
}
