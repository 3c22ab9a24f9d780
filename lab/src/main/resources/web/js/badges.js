// Small labelled marks. Each carries its meaning in words (and a symbol), never in colour alone.

import { h } from './dom.js';

/** "answered" or "open". */
export function statusBadge(status) {
  const answered = status === 'answered';
  return h('span', { class: `badge status-${answered ? 'answered' : 'open'}` }, answered ? '● answered' : '○ open');
}

/** Marks a card whose experiments run CPython beside the JVM. */
export function pythonBadge() {
  return h('span', { class: 'badge python', title: 'Its experiments measure CPython beside the JVM' }, 'CPython');
}

const VERDICTS = {
  HOLDS: { symbol: '✓', css: 'holds' },
  FAILS: { symbol: '✗', css: 'fails' },
  SKIPPED: { symbol: '–', css: 'skipped' },
};

/** HOLDS, FAILS or SKIPPED with its symbol. */
export function verdictBadge(verdict) {
  const known = VERDICTS[verdict] ?? { symbol: '?', css: 'unknown' };
  return h('span', { class: `verdict verdict-${known.css}` },
    h('span', { 'aria-hidden': 'true' }, known.symbol), ' ', String(verdict));
}

const RUN_STATUS = {
  COMPLETED: 'completed',
  FAILED: 'failed',
  TIMED_OUT: 'timed out',
  CANCELLED: 'cancelled',
};

/** How a run ended: COMPLETED, FAILED, TIMED_OUT or CANCELLED. */
export function runStatusBadge(status) {
  const css = String(status).toLowerCase().replace('_', '-');
  return h('span', { class: `badge run-${css}` }, RUN_STATUS[status] ?? String(status));
}
