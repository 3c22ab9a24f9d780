// The demo page charts-demo.html (see there); a file, not inline: the web lab's Content-Security-Policy allows no
// inline script.
import {renderCharts} from '../js/charts.js';
import {renderTimeline} from '../js/timeline.js';

const FIXTURES = [
    'series-amdahl', 'series-cpu-io-matrix', 'series-start-cost', 'series-switch-interval',
    'series-cpu-starvation', 'series-event-loop', 'series-gil-cpu-threads', 'series-blocking-to-async',
    'series-io-models', 'series-async-bottlenecks',
    'trace-deadlock', 'trace-concurrency-vs-parallelism', 'trace-gil-model', 'trace-dag-scheduler',
    'synthetic-trace',
];
const query = new URLSearchParams(location.search);
const root = document.documentElement;
const themeButton = document.getElementById('theme');
const setTheme = theme => {
    root.dataset.theme = theme;
    themeButton.setAttribute('aria-pressed', String(theme === 'dark'));
    themeButton.textContent = theme === 'dark' ? 'Light theme' : 'Dark theme';
};
const forced = query.get('theme');
setTheme(forced === 'dark' || forced === 'light' ? forced
    : matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light');
themeButton.addEventListener('click', () => setTheme(root.dataset.theme === 'dark' ? 'light' : 'dark'));

const only = (query.get('only') ?? '').split(',').filter(Boolean);
const main = document.getElementById('demo');
const width = Number(query.get('width'));
if (width > 0) {
    main.style.maxWidth = `${width}px`; // headless chromium will not open a window under 500 px
}

function section(id, title, meta) {
    const s = document.createElement('section');
    s.id = id;
    const h = document.createElement('h2');
    h.textContent = title;
    const p = document.createElement('p');
    p.className = 'meta';
    p.textContent = meta;
    const slot = document.createElement('div');
    s.append(h, p, slot);
    main.append(s);
    return {slot, meta: p};
}

/** About 11,000 events: 3 groups × 8 threads, each ~430 spans (some nested) plus instants. Deterministic. */
function syntheticTrace() {
    let seed = 12345;
    const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    const events = [];
    let tid = 0;
    for (const group of ['pool A', 'pool B', 'event loop']) {
        for (let t = 0; t < 8; t++) {
            tid++;
            events.push({name: 'thread_name', ph: 'M', pid: 1, tid, args: {name: `${group} · worker-${t}`}});
            let ts = random() * 500;
            for (let i = 0; i < 430; i++) {
                const dur = 20 + random() * 900;
                const name = random() < 0.3 ? 'waits for lock' : `task ${i % 17}`;
                events.push({name, ph: 'X', pid: 1, tid, ts, dur});
                if (random() < 0.15 && dur > 100) {
                    events.push({name: 'io', ph: 'X', pid: 1, tid, ts: ts + dur * 0.2, dur: dur * 0.5});
                }
                if (random() < 0.05) {
                    events.push({name: 'wake-up', ph: 'i', s: 't', pid: 1, tid, ts: ts + dur});
                }
                ts += dur + random() * 200;
            }
        }
    }
    return events;
}

for (const id of FIXTURES.filter(f => only.length === 0 || only.includes(f))) {
    try {
        if (id === 'synthetic-trace') {
            const events = syntheticTrace();
            const {slot, meta} = section(id, 'Synthetic trace (stress)', '');
            const started = performance.now();
            const drawn = renderTimeline(slot, events, {filename: 'synthetic-trace.json'});
            const ms = performance.now() - started;
            meta.textContent = `${events.length} events, ${drawn.spans} spans on ${drawn.lanes} lanes; `
                + `first draw ${ms.toFixed(1)} ms. Not a measurement: generated to test zoom, pan and culling.`;
            continue;
        }
        const response = await fetch(`fixtures/charts/${id}.json`);
        if (!response.ok) {
            throw new Error(`${id}.json: HTTP ${response.status}`);
        }
        const record = await response.json();
        const {slot} = section(id, record.title, `${record.experiment} · measured ${record.startedAt}`);
        if (id.startsWith('series-')) {
            renderCharts(slot, record.result.series, {tables: record.result.tables});
        } else {
            renderTimeline(slot, record.result.trace, {filename: `${record.experiment}-trace.json`});
        }
    } catch (error) {
        const {slot} = section(id, id, '');
        slot.className = 'error';
        slot.textContent = String(error);
    }
}
document.body.dataset.ready = 'true';
