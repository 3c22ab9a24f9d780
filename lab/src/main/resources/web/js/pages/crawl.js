// The crawl system's page (#/systems/crawl): the server starts a local test site for the run (127.0.0.1, a free
// port, closed when the run ends) and crawls it with the crawler of the crawl module; the page shows pages,
// requests, errors, in flight and queued live, a chart of pages per second, then CrawlSummary's numbers.
// See js/pages/system-run.js for the page itself and its stable selectors.

import { h } from '../dom.js';
import { num, systemRunPage } from './system-run.js';

const ms = (v) => (typeof v === 'number' ? `${num(v)} ms` : '—');

const SPEC = {
  intro: h('p', {}, 'Crawl a test site the lab starts on 127.0.0.1 for this run only (its pages link to each other; '
    + 'latency and 503s as you choose). Nothing outside this machine is fetched.'),
  counters: [
    ['pages', 'Pages', (p) => `${num(p.pages)} of ${num(p.pagesAsked)}`],
    ['requests', 'Requests', (p) => num(p.requests)],
    ['errors', 'Errors', (p) => num(p.errors)],
    ['inFlight', 'In flight', (p) => num(p.inFlight)],
    ['queued', 'Queued', (p) => num(p.queued)],
    ['elapsed', 'Elapsed', (p) => (typeof p.elapsedMs === 'number' ? `${(p.elapsedMs / 1000).toFixed(1)} s` : '—')],
  ],
  bar: (p) => (typeof p.pagesAsked === 'number'
    ? { value: p.pages, max: p.pagesAsked, text: `${num(p.pages)} of ${num(p.pagesAsked)} pages` } : null),
  chart: { name: 'Pages per second', yLabel: 'pages/s', quantity: (p) => (typeof p.pages === 'number' ? p.pages : null) },
  notice: (state) => ({
    COMPLETED: `Crawl ${state.id} completed: ${num(state.summary?.pages)} pages.`,
    CANCELLED: `Crawl ${state.id} was cancelled; the summary shows what it did until then.`,
    TIMED_OUT: `Crawl ${state.id} hit its time limit and was stopped.`,
    FAILED: `Crawl ${state.id} failed.`,
  })[state.status] ?? state.status,
  summary: (s) => [
    ['model', 'Fetch model', s.model],
    ['pages', 'Pages fetched', `${num(s.pages)} of ${num(s.pagesAsked)}`],
    ['pagesPerSecond', 'Pages per second', num(s.pagesPerSecond)],
    ['requests', 'Requests', num(s.requests)],
    ['retries', 'Retries', num(s.retries)],
    ['throttled', '429s honoured', num(s.throttled)],
    ['links', 'Links seen', num(s.links)],
    ['errors', 'Errors', s.errorCount === 0 ? 'none'
      : Object.entries(s.errors ?? {}).map(([k, v]) => `${k} ${num(v)}`).join(', ')],
    ['p50', 'Latency p50', ms(s.p50Ms)],
    ['p90', 'Latency p90', ms(s.p90Ms)],
    ['p99', 'Latency p99', ms(s.p99Ms)],
    ['max', 'Latency max', ms(s.maxMs)],
    ['elapsed', 'Wall time', `${(s.elapsedMs / 1000).toFixed(2)} s`],
    ['stopped', 'Stopped early', s.stopped ? 'yes' : 'no'],
    ['site', 'Site (closed now)', s.site],
  ],
};

/** Renders the crawl page into el. */
export function crawlPage(el, system, signal) {
  return systemRunPage(el, system, signal, SPEC);
}
