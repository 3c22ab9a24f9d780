// One run record (RunRecord, as `./conclab run ID --json` prints it) drawn as the page shows it: how the run ended,
// when and where it was measured, with which values, each claim with its verdict and evidence, the charts, the
// tables, the trace timeline and the notes.

import { ago, formatInstant, formatNumber, formatSeconds, h, machineSummary } from './dom.js';
import { runStatusBadge, verdictBadge } from './badges.js';
import { fillCharts, fillTimeline } from './viz.js';

function claimItem(claim) {
  const verdict = claim.verdict?.verdict ?? 'UNKNOWN';
  return h('li', { class: `claim claim-${verdict.toLowerCase()}`, dataset: { claim: claim.id, verdict } },
    verdictBadge(verdict),
    h('div', { class: 'claim-body' },
      h('p', { class: 'claim-text' }, claim.text),
      h('p', { class: 'evidence' }, claim.verdict?.detail ?? ''),
      h('code', { class: 'claim-id' }, claim.id)));
}

function tally(claims) {
  const count = (v) => claims.filter((c) => c.verdict?.verdict === v).length;
  const parts = [`${count('HOLDS')} hold`, `${count('FAILS')} fail`];
  const skipped = count('SKIPPED');
  if (skipped) {
    parts.push(`${skipped} skipped`);
  }
  return `${claims.length} ${claims.length === 1 ? 'claim' : 'claims'}: ${parts.join(' · ')}`;
}

let tables = 0;

/** A table under its title; the title stays in view while a wide table scrolls sideways (keyboard: focus it). */
function table(t) {
  const numeric = t.columns.map((_, i) => t.rows.length > 0 && t.rows.every((r) => typeof r[i] === 'number'));
  const cls = (i) => (numeric[i] ? 'num' : null);
  const id = `table-${++tables}`;
  return h('figure', { class: 'table-figure' },
    h('figcaption', { id }, t.title),
    h('div', { class: 'table-wrap', role: 'region', tabindex: '0', 'aria-labelledby': id },
      h('table', { 'aria-labelledby': id },
        h('thead', {}, h('tr', {}, t.columns.map((c, i) => h('th', { scope: 'col', class: cls(i) }, c)))),
        h('tbody', {}, t.rows.map((row) => h('tr', {}, row.map((cell, i) => h('td', { class: cls(i) },
          formatNumber(cell)))))))));
}

/**
 * The record as an element headed `heading` ("Latest result", "This run"). The chart and timeline slots are
 * filled asynchronously: insert the element into the page in the same task. When `signal` fires, what the chart
 * and timeline modules drew is destroyed (their listeners stopped).
 */
export function renderRecord(record, { heading, signal }) {
  const result = record.result ?? {};
  const claims = result.claims ?? [];
  const params = Object.entries(record.params ?? {});
  const charts = h('div', { class: 'charts' });
  const timeline = h('div', { class: 'timeline' });
  const el = h('div', { class: 'record', dataset: { status: record.status } },
    h('h4', {}, heading),
    h('p', { class: 'record-meta' },
      runStatusBadge(record.status), ` in ${formatSeconds(record.seconds ?? 0)}`, record.quick ? ' · quick run' : '',
      ' · measured ', h('time', { datetime: record.startedAt, title: record.startedAt },
        `${formatInstant(record.startedAt)} (${ago(record.startedAt)})`),
      ' on ', h('span', { class: 'machine' }, machineSummary(record.machine))),
    params.length > 0 ? h('p', { class: 'record-params' }, 'Values: ',
      params.map(([k, v], i) => [i > 0 ? ' ' : null, h('code', {}, `${k}=${v}`)])) : null,
    record.error ? h('p', { class: 'record-error' }, h('strong', {}, 'Stopped: '), record.error) : null,
    claims.length > 0 ? h('div', { class: 'claims' },
      h('p', { class: 'tally' }, tally(claims)),
      h('ul', { class: 'claim-list' }, claims.map(claimItem))) : null,
    charts,
    (result.tables ?? []).map(table),
    timeline,
    (result.notes ?? []).length > 0 ? h('ul', { class: 'notes' }, result.notes.map((n) => h('li', {}, n))) : null);
  fillCharts(charts, result.series ?? [], result.tables ?? [], signal);
  fillTimeline(timeline, result.trace ?? [], `${record.experiment}-trace.json`, signal);
  return el;
}
