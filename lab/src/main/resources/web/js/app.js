// The web lab's entry point: the hash router and the wiring of the theme and the keys.
// Routes: #/ (catalog; its search and filters live in the hash's query, e.g. #/?q=gil&status=open&python=true),
// #/card/{id}, #/systems and #/systems/{key}. Each page gets an AbortSignal that fires when the reader leaves it,
// which closes its event streams and timers.

import { h } from './dom.js';
import { initTheme } from './theme.js';
import { initKeys, setPageKeys } from './keys.js';
import { view } from './state.js';
import { renderCatalog } from './pages/catalog.js';
import { renderCard } from './pages/card.js';
import { renderSystems } from './pages/systems.js';

const main = document.getElementById('main');
let current = null;
let firstRoute = true;

/** The hash split into path segments (decoded) and its query. */
function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/';
  const mark = raw.indexOf('?');
  const path = mark < 0 ? raw : raw.slice(0, mark);
  const query = new URLSearchParams(mark < 0 ? '' : raw.slice(mark + 1));
  let parts;
  try {
    parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  } catch {
    parts = ['?'];
  }
  return { parts, query };
}

function page(parts) {
  if (parts.length === 0) {
    return { nav: 'catalog', render: (el, query, signal) => renderCatalog(el, query, signal) };
  }
  if (parts[0] === 'card' && parts.length === 2) {
    return { nav: 'catalog', render: (el, query, signal) => renderCard(el, parts[1], signal) };
  }
  if (parts[0] === 'systems' && parts.length <= 2) {
    return { nav: 'systems', render: (el, query, signal) => renderSystems(el, parts[1] ?? null, signal) };
  }
  return { nav: null, render: notFound };
}

function notFound(el) {
  el.replaceChildren(
    h('h1', { tabindex: '-1' }, 'No such page'),
    h('p', {}, 'The address ', h('code', {}, location.hash), ' names no page of the lab. ',
      h('a', { href: '#/' }, 'Go to the catalog'), '.'));
  return { keys: (key) => key.key === 'Escape' && backToCatalog() };
}

async function route() {
  current?.abort();
  const controller = new AbortController();
  current = controller;
  const { parts, query } = parseHash();
  const target = page(parts);
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === target.nav) {
      link.setAttribute('aria-current', 'page');
    } else {
      link.removeAttribute('aria-current');
    }
  }
  setPageKeys(null);
  // The page replaces the loading line once its data has come, inside the document (charts measure their box).
  const shell = h('div', { class: 'page' }, h('p', { class: 'loading', role: 'status' }, 'Loading…'));
  main.replaceChildren(shell);
  try {
    const shown = await target.render(shell, query, controller.signal);
    if (controller.signal.aborted) {
      return;
    }
    setPageKeys(shown?.keys ?? null);
    // A page may place the focus itself (answering true); otherwise a navigation starts at the page's heading.
    if (!shown?.focus?.() && !firstRoute) {
      window.scrollTo(0, 0);
      shell.querySelector('h1')?.focus({ preventScroll: true });
    }
  } catch (e) {
    if (controller.signal.aborted) {
      return;
    }
    shell.replaceChildren(
      h('h1', { tabindex: '-1' }, 'The lab could not show this page'),
      h('p', { class: 'error', role: 'alert' }, e.message || String(e)),
      h('p', {}, h('a', { href: view.catalogHash }, 'Back to the catalog')));
    setPageKeys((key) => key.key === 'Escape' && backToCatalog());
    if (!firstRoute) {
      main.querySelector('h1').focus();
    }
  } finally {
    firstRoute = false;
  }
}

function backToCatalog() {
  location.hash = view.catalogHash;
  return true;
}

function focusSearch() {
  const input = document.getElementById('search');
  if (input) {
    input.focus();
    input.select();
  } else {
    view.focusSearch = true;
    location.hash = view.catalogHash;
  }
}

initTheme();
initKeys({ focusSearch });
window.addEventListener('hashchange', route);
route();
