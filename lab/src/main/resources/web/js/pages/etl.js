// The etl system's page (#/systems/etl): the server generates order files into a fresh temporary directory, loads
// them with the ETL job (parallel byte ranges, a checkpoint, SQLite output, all in that directory) and deletes the
// directory when the run ends. Live: bytes done (progress bar), records, rejects, MB/s; then the job's counters.
// "Crash and resume" crashes the load after its first committed range and resumes it on the same checkpoint.
// See js/pages/system-run.js for the page itself and its stable selectors.

import { h } from '../dom.js';
import { num, systemRunPage } from './system-run.js';

const MB = 1e6;
const mb = (bytes) => `${num(bytes / MB)} MB`;

const SPEC = {
  intro: h('p', {}, 'Generate order files (0.1 % malformed) in a temporary directory on the server and load them; '
    + 'the directory, the SQLite output and the checkpoint are deleted when the run ends.'),
  counters: [
    ['phase', 'Phase', (p) => p.phase ?? '—'],
    ['bytes', 'Bytes', (p) => (typeof p.bytesDone === 'number' ? `${mb(p.bytesDone)} of ${mb(p.bytesTotal)}` : '—')],
    ['records', 'Records', (p) => num(p.records)],
    ['rejects', 'Rejects', (p) => num(p.rejects)],
    ['mbPerSecond', 'MB/s', (p) => num(p.mbPerSecond)],
    ['recordsPerSecond', 'Records/s', (p) => num(Math.round(p.recordsPerSecond))],
  ],
  bar: (p) => (typeof p.bytesTotal === 'number' && p.bytesTotal > 0
    ? { value: Math.min(p.bytesDone, p.bytesTotal), max: p.bytesTotal,
      text: `${p.phase}: ${Math.floor((100 * p.bytesDone) / p.bytesTotal)} % (${mb(p.bytesDone)} of ${mb(p.bytesTotal)})` }
    : null),
  chart: { name: 'MB per second', yLabel: 'MB/s',
    quantity: (p) => (p.phase !== 'generating' && typeof p.bytesDone === 'number' ? p.bytesDone / MB : null) },
  actions: [{ action: 'crash', label: 'Crash and resume', extra: { crashAndResume: true },
    hint: 'Stop the load abruptly after its first committed range (an interrupt in the lab\'s JVM; the'
      + ' etl-crash-resume experiment kills a process with SIGKILL), then start it again on the same checkpoint' }],
  notice: (state) => {
    const s = state.summary;
    const resumed = s && s.crashedAfterRanges !== null && s.crashedAfterRanges !== undefined
      ? ` Crashed after ${num(s.crashedAfterRanges)} committed range(s); resumed ${num(s.resumedRanges)} ranges`
        + ` from the checkpoint and scanned the other ${num(s.scannedRanges)}.` : '';
    return ({
      COMPLETED: `ETL run ${state.id} completed: ${num(s?.records)} records loaded.${resumed}`,
      CANCELLED: `ETL run ${state.id} was cancelled; its directory is deleted.`,
      TIMED_OUT: `ETL run ${state.id} hit its time limit and was stopped.`,
      FAILED: `ETL run ${state.id} failed.`,
    })[state.status] ?? state.status;
  },
  summary: (s) => [
    ['input', 'Input', `${num(s.files)} ${s.format} file(s), ${mb(s.generatedBytes)}`],
    ['generated', 'Records generated', `${num(s.generatedRecords)} (${num(s.malformedRecords)} malformed)`],
    ['ranges', 'Ranges', `${num(s.ranges)} of ${num(s.rangeBytes / 1048576)} MiB`],
    ['resumed', 'Resumed ranges', s.crashedAfterRanges === null || s.crashedAfterRanges === undefined
      ? num(s.resumedRanges) : `resumed ${num(s.resumedRanges)} ranges (crashed after ${num(s.crashedAfterRanges)})`],
    ['lines', 'Lines', num(s.lines)],
    ['records', 'Records loaded', num(s.records)],
    ['filtered', 'Filtered (cancelled, refunded)', num(s.filtered)],
    ['rejects', 'Rejected (malformed)', num(s.rejects)],
    ['groups', 'Groups (country, day)', num(s.groups)],
    ['threads', 'Threads', num(s.threads)],
    ['mbPerSecond', 'MB/s (this run)', num(s.mbPerSecond)],
    ['recordsPerSecond', 'Records/s (this run)', num(Math.round(s.recordsPerSecond))],
    ['elapsed', 'Wall time (this run)', `${(s.elapsedMs / 1000).toFixed(2)} s`],
    ['output', 'Output', s.output],
  ],
};

/** Renders the etl page into el. */
export function etlPage(el, system, signal) {
  return systemRunPage(el, system, signal, SPEC);
}
