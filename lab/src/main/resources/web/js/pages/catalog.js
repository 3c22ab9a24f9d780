// The catalog page (#/): the ten sections with their answered/open counts and every card, a search over questions
// and answers (GET /api/search, debounced) and the filters answered/open and has-CPython. The search words and
// filters are kept in the hash's query (#/?q=...&status=open&python=true), so a filtered view can be linked;
// typing rewrites the address in place (history.replaceState), without a new history entry per key.

import { h, marked } from '../dom.js';
import { search } from '../api.js';
import { loadCatalog, view } from '../state.js';
import { pythonBadge, statusBadge } from '../badges.js';

const STATUSES = [['', 'All'], ['answered', 'Answered'], ['open', 'Open']];
const DEBOUNCE_MS = 200;

function readFilters(query) {
  const status = query.get('status');
  return {
    q: (query.get('q') ?? '').trim(),
    status: status === 'answered' || status === 'open' ? status : '',
    python: query.get('python') === 'true',
  };
}

function hashOf(filters) {
  const query = new URLSearchParams();
  if (filters.q) {
    query.set('q', filters.q);
  }
  if (filters.status) {
    query.set('status', filters.status);
  }
  if (filters.python) {
    query.set('python', 'true');
  }
  const text = query.toString();
  return text ? `#/?${text}` : '#/';
}

function cardLink(card, { words = [], snippet = null, sectionTitle = null } = {}) {
  return h('a', { class: 'card-link', href: `#/card/${encodeURIComponent(card.id)}`, dataset: { cardId: card.id } },
    h('span', { class: 'card-id' }, card.id),
    h('span', { class: 'card-question' }, marked(card.question, words)),
    h('span', { class: 'badges' },
      statusBadge(card.status),
      card.python ? pythonBadge() : null,
      sectionTitle ? h('span', { class: 'badge section' }, sectionTitle) : null),
    snippet ? h('span', { class: 'card-snippet' }, marked(snippet, words)) : null);
}

/** Renders the catalog into el; answers {keys, focus} for the router. */
export async function renderCatalog(el, query, signal) {
  const catalog = await loadCatalog();
  if (signal.aborted) {
    return {};
  }
  const filters = readFilters(query);
  const byId = new Map(catalog.sections.flatMap((s) => s.cards.map((c) => [c.id, { card: c, section: s }])));

  const input = h('input', {
    id: 'search', type: 'search', name: 'q', autocomplete: 'off', spellcheck: 'false',
    placeholder: 'GIL, deadlock, rate limiter…', 'aria-describedby': 'search-hint',
  });
  input.value = filters.q;
  const statusInputs = STATUSES.map(([value, text]) => {
    const radio = h('input', { type: 'radio', name: 'status', value, checked: filters.status === value });
    return { radio, label: h('label', { class: 'chip' }, radio, ' ', text) };
  });
  const python = h('input', { type: 'checkbox', name: 'python', checked: filters.python });
  const count = h('p', { class: 'result-count', role: 'status' });
  const list = h('div', { class: 'catalog-list' });

  let timer = 0;
  let inflight = null;
  signal.addEventListener('abort', () => {
    clearTimeout(timer);
    inflight?.abort();
  });

  const matches = (card) => (!filters.status || card.status === filters.status) && (!filters.python || card.python);

  function browse() {
    const groups = [];
    let shown = 0;
    for (const section of catalog.sections) {
      const cards = section.cards.filter(matches);
      shown += cards.length;
      if (cards.length === 0) {
        continue;
      }
      groups.push(h('section', { class: 'catalog-section', 'aria-labelledby': `sec-${section.key}` },
        h('h2', { id: `sec-${section.key}` }, section.title, ' ',
          h('span', { class: 'counts' }, `${section.answered} answered · ${section.open} open`)),
        h('ol', { class: 'cards' }, cards.map((c) => h('li', {}, cardLink(c))))));
    }
    count.textContent = shown === catalog.total ? `${catalog.total} questions`
      : `${shown} of ${catalog.total} questions match the filters`;
    const index = h('nav', { class: 'section-index', 'aria-label': 'Sections' },
      groups.map((g) => {
        const heading = g.querySelector('h2');
        return h('button', { type: 'button', class: 'chip', onclick: () => {
          heading.scrollIntoView({ behavior: 'smooth', block: 'start' });
          g.querySelector('a.card-link')?.focus({ preventScroll: true });
        } }, heading.firstChild.textContent.replace(/ \(.*\)$/, ''));
      }));
    list.replaceChildren(...(groups.length > 1 ? [index] : []), ...groups);
    if (shown === 0) {
      list.append(h('p', { class: 'empty' }, 'No card matches these filters.'));
    }
  }

  async function find() {
    inflight?.abort();
    const controller = new AbortController();
    inflight = controller;
    count.textContent = `Searching for “${filters.q}”…`;
    try {
      const answer = await search({ q: filters.q, status: filters.status || null,
        python: filters.python ? true : null }, controller.signal);
      if (controller.signal.aborted) {
        return;
      }
      const words = filters.q.split(/\s+/).filter(Boolean);
      const results = answer.results ?? [];
      count.textContent = `${results.length} ${results.length === 1 ? 'card' : 'cards'} for “${answer.query ?? filters.q}”`;
      list.replaceChildren(results.length === 0
        ? h('p', { class: 'empty' }, 'No question or answer holds these words.')
        : h('ol', { class: 'cards results' }, results.map((r) => {
          const known = byId.get(r.id);
          const card = { id: r.id, question: r.question, status: r.status, python: known?.card.python ?? false };
          return h('li', {}, cardLink(card, { words, snippet: r.snippet, sectionTitle: known?.section.title }));
        })));
    } catch (e) {
      if (e.name === 'AbortError' || controller.signal.aborted) {
        return;
      }
      count.textContent = 'The search failed.';
      list.replaceChildren(h('p', { class: 'error', role: 'alert' }, e.message));
    }
  }

  function update({ debounce = false } = {}) {
    const hash = hashOf(filters);
    view.catalogHash = hash;
    if ((location.hash || '#/') !== hash) {
      history.replaceState(null, '', hash);
    }
    clearTimeout(timer);
    if (!filters.q) {
      inflight?.abort();
      browse();
    } else if (debounce) {
      timer = setTimeout(find, DEBOUNCE_MS);
    } else {
      find();
    }
  }

  input.addEventListener('input', () => {
    filters.q = input.value.trim();
    update({ debounce: true });
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown') {
      const first = list.querySelector('a.card-link');
      if (first) {
        e.preventDefault();
        first.focus();
      }
    }
  });
  for (const { radio } of statusInputs) {
    radio.addEventListener('change', () => {
      filters.status = radio.value;
      update();
    });
  }
  python.addEventListener('change', () => {
    filters.python = python.checked;
    update();
  });

  const form = h('form', { class: 'catalog-search', role: 'search', onsubmit: (e) => {
    e.preventDefault();
    filters.q = input.value.trim();
    update();
  } },
  h('label', { for: 'search', class: 'search-label' }, 'Search the questions and answers'),
  h('div', { class: 'search-row' }, input),
  h('p', { id: 'search-hint', class: 'hint' }, 'Press / to search from anywhere, ↓ to reach the results.'),
  h('div', { class: 'filters' },
    h('fieldset', { class: 'chips' }, h('legend', {}, 'Status'), statusInputs.map((s) => s.label)),
    h('label', { class: 'chip' }, python, ' Has a CPython side')));

  el.replaceChildren(
    h('header', { class: 'catalog-head' },
      h('h1', { tabindex: '-1' }, 'Concurrency, measured'),
      h('p', { class: 'lede' },
        `${catalog.answered} of ${catalog.total} questions answered. Every answer is backed by an experiment that runs `
        + 'on this machine, measures itself and checks its claims — the JVM beside CPython where the question is '
        + 'about Python.')),
    form, count, list);
  update();

  const links = () => [...list.querySelectorAll('a.card-link')];
  return {
    keys(e) {
      const all = links();
      const at = all.indexOf(document.activeElement);
      let next = null;
      if (e.key === 'j' || e.key === 'ArrowDown') {
        next = all[Math.min(at + 1, all.length - 1)];
      } else if ((e.key === 'k' || e.key === 'ArrowUp') && at >= 0) {
        next = at === 0 ? input : all[at - 1];
      }
      if (!next) {
        return false;
      }
      next.focus();
      next.scrollIntoView({ block: 'nearest' });
      return true;
    },
    focus() {
      if (view.focusSearch) {
        view.focusSearch = false;
        input.focus();
        return true;
      }
      const last = view.lastCard && list.querySelector(`a.card-link[data-card-id="${CSS.escape(view.lastCard)}"]`);
      if (last) {
        last.focus({ preventScroll: true });
        last.scrollIntoView({ block: 'center' });
        return true;
      }
      return false;
    },
  };
}
