// The card page (#/card/{id}): the question, the answer's sections (HTML rendered and escaped by the server from
// the card's Markdown: the one place the lab uses innerHTML), code highlighted, the related cards, and each
// experiment with its form, runs and results. Keys: j or → the next card, k or ← the previous, Escape back to the
// catalog as it was left.

import { getCard } from '../api.js';
import { h } from '../dom.js';
import { cardsInOrder, view } from '../state.js';
import { pythonBadge, statusBadge, verdictBadge } from '../badges.js';
import { renderExperiment } from '../experiment.js';
import { highlightCode } from '../highlight.js';

const cardHref = (id) => `#/card/${encodeURIComponent(id)}`;

/**
 * In the Evidence section, `experiment › claim` names a claim: it becomes a link to the experiment's panel, with
 * the claim's verdict in the latest stored record beside it.
 */
function linkEvidence(answer, experiments) {
  const byId = new Map(experiments.map((e) => [e.id, e]));
  for (const code of answer.querySelectorAll('code')) {
    const named = /^([a-z0-9-]+) › ([a-z0-9-]+)$/.exec(code.textContent.trim());
    const exp = named && byId.get(named[1]);
    if (!exp) {
      continue;
    }
    const link = h('a', { class: 'evidence-link', href: cardHref(view.lastCard), onclick: (e) => {
      e.preventDefault();
      const panel = document.getElementById(`exp-${exp.id}`);
      panel?.scrollIntoView({ behavior: 'smooth', block: 'start' });
      panel?.querySelector('h3')?.focus({ preventScroll: true });
    } });
    code.replaceWith(link);
    link.append(code);
    const claim = exp.latest?.result?.claims?.find((c) => c.id === named[2]);
    if (claim?.verdict?.verdict) {
      link.after(' ', verdictBadge(claim.verdict.verdict));
    }
  }
}

function answerSection(section) {
  const body = h('div', { class: 'md' });
  body.innerHTML = section.html; // the server's rendered Markdown, raw HTML escaped there
  return h('section', { class: 'answer-section', dataset: { heading: section.heading } },
    h('h2', {}, section.heading), body);
}

function pager(prev, next, where) {
  return h('nav', { class: `pager pager-${where}`, 'aria-label': where === 'top' ? 'Previous and next card' : 'More cards' },
    prev ? h('a', { href: cardHref(prev.id), rel: 'prev', title: `${prev.question} (k)` }, '← ', prev.id)
      : h('span', {}),
    next ? h('a', { href: cardHref(next.id), rel: 'next', title: `${next.question} (j)` }, next.id, ' →')
      : h('span', {}));
}

/** Renders card `id` into el; answers {keys} for the router. */
export async function renderCard(el, id, signal) {
  const [card, order] = await Promise.all([getCard(id, signal), cardsInOrder().catch(() => [])]);
  if (signal.aborted) {
    return {};
  }
  view.lastCard = card.id;
  const at = order.findIndex((c) => c.id === card.id);
  const prev = at > 0 ? order[at - 1] : null;
  const next = at >= 0 && at < order.length - 1 ? order[at + 1] : null;
  const byId = new Map(order.map((c) => [c.id, c]));
  const experiments = card.experiments ?? [];

  const answer = h('article', { class: 'answer prose', 'aria-label': 'Answer' },
    (card.sections ?? []).length > 0 ? card.sections.map(answerSection)
      : h('p', { class: 'open-note' }, 'This question is open: its answer and experiment are not written yet.'));
  const related = (card.related ?? []).length > 0 ? h('aside', { class: 'related', 'aria-labelledby': 'related-h' },
    h('h2', { id: 'related-h' }, 'Related'),
    h('ul', {}, card.related.map((r) => h('li', {},
      h('a', { href: cardHref(r) }, h('span', { class: 'card-id' }, r), ' ', byId.get(r)?.question ?? ''))))) : null;

  el.replaceChildren(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: view.catalogHash }, 'Catalog'), ' › ',
      h('span', {}, byId.get(card.id)?.sectionTitle ?? card.section), ' › ',
      h('span', { 'aria-current': 'page' }, card.id)),
    pager(prev, next, 'top'),
    h('header', { class: 'card-head' },
      h('h1', { tabindex: '-1' }, card.question),
      h('p', { class: 'badges' }, statusBadge(card.status), byId.get(card.id)?.python ? pythonBadge() : null,
        h('span', { class: 'card-id' }, card.id))),
    h('div', { class: 'card-layout' }, answer, related),
    experiments.length > 0 ? h('section', { class: 'experiments', 'aria-labelledby': 'experiments-h' },
      h('h2', { id: 'experiments-h' }, experiments.length === 1 ? 'The experiment' : 'The experiments'),
      experiments.map((x) => renderExperiment(x, signal))) : null,
    pager(prev, next, 'bottom'));
  linkEvidence(answer, experiments);
  highlightCode(answer);

  const go = (target) => {
    if (target) {
      location.hash = cardHref(target.id);
    }
    return Boolean(target);
  };
  return {
    keys(e) {
      switch (e.key) {
        case 'j':
        case 'ArrowRight':
          return go(next);
        case 'k':
        case 'ArrowLeft':
          return go(prev);
        case 'Escape':
          location.hash = view.catalogHash;
          return true;
        default:
          return false;
      }
    },
  };
}
