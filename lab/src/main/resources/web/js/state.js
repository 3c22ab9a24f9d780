// What the pages share across navigations: the catalog (fetched once per page load, and again after a failure),
// the catalog view the reader last had (its search and filters, so Escape returns to it) and the last card opened
// (so the catalog puts the focus back on it).

import { getCatalog } from './api.js';

let catalog = null;

/** The catalog, fetched on first use and shared by every page. */
export function loadCatalog() {
  catalog ??= getCatalog().catch((e) => {
    catalog = null;
    throw e;
  });
  return catalog;
}

/** Every card of the catalog in catalog order, each with its section's key and title. */
export async function cardsInOrder() {
  const { sections } = await loadCatalog();
  return sections.flatMap((s) => s.cards.map((c) => ({ ...c, section: s.key, sectionTitle: s.title })));
}

export const view = {
  /** The catalog's hash with its query, e.g. "#/?q=gil&python=true". */
  catalogHash: '#/',
  /** The id of the last card opened, or null. */
  lastCard: null,
  /** Set by "/" on another page: the catalog focuses its search box once shown. */
  focusSearch: false,
};
