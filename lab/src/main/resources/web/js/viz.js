// Fills a record's chart and timeline slots with js/charts.js (renderCharts(el, series, {tables})) and
// js/timeline.js (renderTimeline(el, traceEvents, {filename})), loaded on first use; those modules link their own
// stylesheet (css/charts.css). When a module cannot be loaded or throws, the slot says so in words ("Charts
// unavailable: ...") and the rest of the record stays as it is. What they drew is destroyed (their listeners
// stopped) when `signal` fires.

import { h } from './dom.js';

async function fill(el, file, name, data, options, signal, what) {
  if (!Array.isArray(data) || data.length === 0) {
    return;
  }
  let module;
  try {
    module = await import(file);
  } catch (e) {
    console.warn(`${file} did not load`, e);
    el.replaceChildren(h('p', { class: 'viz-unavailable' }, `${what} unavailable: ${file.slice(2)} did not load.`));
    return;
  }
  if (signal?.aborted) {
    return;
  }
  try {
    if (typeof module[name] !== 'function') {
      throw new Error(`${file.slice(2)} has no ${name}()`);
    }
    const drawn = module[name](el, data, options);
    signal?.addEventListener('abort', () => drawn?.destroy?.(), { once: true });
  } catch (e) {
    console.warn(`${name} failed`, e);
    el.replaceChildren(h('p', { class: 'viz-unavailable' }, `${what} unavailable: ${e.message}`));
  }
}

/** Draws record.result.series into el (a div.charts, in the page); nothing when there are none. */
export function fillCharts(el, series, tables, signal) {
  return fill(el, './charts.js', 'renderCharts', series, { tables }, signal, 'Charts');
}

/** Draws record.result.trace (Chrome Trace Events) into el (a div.timeline); nothing when there are none. */
export function fillTimeline(el, trace, filename, signal) {
  return fill(el, './timeline.js', 'renderTimeline', trace, { filename }, signal, 'Timeline');
}
