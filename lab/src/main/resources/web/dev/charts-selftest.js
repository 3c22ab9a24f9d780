// The self-test of js/charts.js and js/timeline.js, run by charts-selftest.html (see there). A module that does not
// load is reported by charts-selftest-boot.js's error listener.
import {
    buildModel, formatExact, groupByChart, isReference, logTicks, makeScale, nearestMark, niceTicks,
    parseCategories, renderCharts, tableRowNames, wantsLog,
} from '../js/charts.js';
import {
    assignRows, firstEndingAfter, formatDuration, kindOf, panView, parseTrace, renderTimeline, timeTicks,
    zoomView,
} from '../js/timeline.js';

const results = [];
const log = document.getElementById('log');
const stage = document.getElementById('stage');

function check(name, condition, detail = '') {
    results.push({name, ok: Boolean(condition), detail});
    const li = document.createElement('li');
    li.className = condition ? 'pass' : 'fail';
    li.textContent = `${condition ? 'PASS' : 'FAIL'} ${name}${condition || !detail ? '' : ' — ' + detail}`;
    log.append(li);
}

function same(name, actual, expected) {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    check(name, a === e, `got ${a}, expected ${e}`);
}

function near(name, actual, expected, tolerance = 1e-9) {
    check(name, Math.abs(actual - expected) <= tolerance, `got ${actual}, expected ${expected}`);
}

async function fixture(id) {
    const response = await fetch(`fixtures/charts/${id}.json`);
    if (!response.ok) {
        throw new Error(`fixture ${id}: HTTP ${response.status}`);
    }
    return (await response.json()).result;
}

function fresh() {
    const div = document.createElement('div');
    stage.replaceChildren(div);
    return div;
}

function pointerAt(target, x, y) {
    const box = target.getBoundingClientRect();
    target.dispatchEvent(new PointerEvent('pointermove', {
        bubbles: true, clientX: box.left + x, clientY: box.top + y, pointerId: 1,
    }));
}

async function run() {
    // ---- ticks and scales ----
    same('niceTicks(0, 1.49) steps by 0.5', niceTicks(0, 1.49).ticks, [0, 0.5, 1, 1.5]);
    same('niceTicks(0, 1077.6) steps by 200 up to 1200', niceTicks(0, 1077.6).ticks,
        [0, 200, 400, 600, 800, 1000, 1200]);
    same('niceTicks(0.1, 0.7) keeps decimals clean', niceTicks(0.1, 0.7).ticks, [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
    const one = niceTicks(5, 5);
    check('niceTicks on one value widens it around the value', one.min <= 4.5 && one.max >= 5.5 && one.ticks.includes(5),
        JSON.stringify(one.ticks));
    same('integer ticks for worker counts', niceTicks(1, 4, 6, true).ticks, [1, 2, 3, 4]);
    same('niceTicks swaps reversed bounds', niceTicks(10, 0).ticks, [0, 2, 4, 6, 8, 10]);
    let threw = false;
    try {
        niceTicks(0, NaN);
    } catch (e) {
        threw = e instanceof RangeError;
    }
    check('niceTicks refuses NaN', threw);
    const log1 = logTicks(13.7, 69216);
    same('logTicks(13.7, 69216): decades 10..1e5', log1.ticks, [10, 100, 1000, 10000, 100000]);
    check('logTicks(13.7, 69216): 2× and 5× as minor ticks', log1.minor.includes(20) && log1.minor.includes(50000));
    same('logTicks(1, 50) labels 1, 2, 5, 10, 20, 50, 100', logTicks(1, 50).ticks, [1, 2, 5, 10, 20, 50, 100]);
    same('logTicks(0.1, 50) spans 0.1..100', [logTicks(0.1, 50).min, logTicks(0.1, 50).max], [0.1, 100]);
    check('wantsLog: 13.7..69216 spans > 100×', wantsLog([13.7, 149, 69216]));
    check('wantsLog: 1..99 does not', !wantsLog([1, 50, 99]));
    check('wantsLog: a zero rules it out', !wantsLog([0, 10, 100000]));
    const lin = makeScale([0, 10], [100, 200]);
    near('linear scale maps 5 to 150', lin(5), 150);
    near('linear scale inverts 175 to 7.5', lin.invert(175), 7.5);
    const lg = makeScale([1, 1000], [0, 300], true);
    near('log scale maps 10 to 100', lg(10), 100);
    near('log scale inverts 200 to 100', lg.invert(200), 100, 1e-9);
    const down = makeScale([0, 4], [250, 10]);
    near('a y scale runs downwards', down(4), 10);
    same('formatExact keeps 6 significant digits', formatExact(1.0061881931336512), '1.00619');

    // ---- categories, reference lines, models ----
    const c1 = parseCategories('variant (1 sequential, 2 interleaved, 3 parallel)');
    same('named categories', [c1.kind, c1.title, [...c1.names]],
        ['named', 'variant', [[1, 'sequential'], [2, 'interleaved'], [3, 'parallel']]]);
    const c2 = parseCategories('variant (1 sequential, 2 virtual threads, 3 pool of k, 4 Semaphore(k))');
    same('a name with parentheses stays whole', c2.names.get(4), 'Semaphore(k)');
    const c3 = parseCategories('variant (0 = baseline, 1 = on the loop, then the cures in table order)');
    same('"0 = name" items, the trailing note dropped', [...c3.names], [[0, 'baseline'], [1, 'on the loop']]);
    const c4 = parseCategories('model (1 Selector · 1 thread, 2 blocking · 1 thread)');
    same('names with inner digits', [...c4.names], [[1, 'Selector · 1 thread'], [2, 'blocking · 1 thread']]);
    same('table-row categories', parseCategories('model (table row)').kind, 'table-row');
    same('one enumerated item is a unit note, not categories', parseCategories('blocking call, ms (0 = none)'), null);
    same('plain numeric labels', [parseCategories('workers'), parseCategories('switch interval ms')], [null, null]);
    check('reference names: ideal, law, one interval', isReference('ideal') && isReference("Amdahl's law on 2 cores")
        && isReference('one interval'));
    check('measured names are not references', !isReference('JVM threads, measured')
        && !isReference('CPython Pool, measured (start-up included)') && !isReference('lawn'));
    same('groupByChart drops broken series and points', groupByChart([
        null, {chart: 'a', name: 'x', points: [{x: 1, y: 2}, {x: 'no', y: 1}]}, {chart: 'a', name: 'y', points: []},
        {chart: 'b', name: 'z', points: [{x: 0, y: 0}]}]).map(g => [g.chart, g.series.length, g.series[0].points.length]),
        [['a', 1, 1], ['b', 1, 1]]);

    const amdahl = await fixture('series-amdahl');
    const amdahlModel = buildModel(groupByChart(amdahl.series)[0]);
    same('amdahl: one line chart of 3 series', [amdahlModel.kind, amdahlModel.series.length], ['line', 3]);
    same('amdahl: only the law is a reference', amdahlModel.series.map(s => s.reference), [false, true, false]);
    check('amdahl: linear axes', !amdahlModel.xLog && !amdahlModel.yLog);

    const matrix = await fixture('series-cpu-io-matrix');
    const matrixModel = buildModel(groupByChart(matrix.series)[0], matrix.tables);
    check('cpu-io-matrix: bars', matrixModel.kind === 'bars', matrixModel.kind);
    const baseline = matrixModel.categories.find(c => c.label === '1 thread (baseline) · JVM');
    check('cpu-io-matrix: table rows name the categories; CPU and I/O share "1 thread (baseline) · JVM"',
        baseline && baseline.values.length === 2, JSON.stringify(matrixModel.categories.map(c => c.label)));
    const processes = matrixModel.categories.find(c => c.label === 'JVM processes (start-up included) · JVM');
    check('cpu-io-matrix: a CPU-only row has one bar', processes && processes.values.length === 1);
    const unnamed = buildModel(groupByChart(matrix.series)[0], []);
    check('cpu-io-matrix without tables: rows of different series are never merged',
        unnamed.categories.every(c => c.values.length === 1), String(unnamed.categories.length));
    same('tableRowNames needs a table of the same length', tableRowNames('model', [{x: 1, y: 1}], matrix.tables), null);

    const start = await fixture('series-start-cost');
    const startModel = buildModel(groupByChart(start.series)[0], start.tables);
    check('start-cost: bars on a log scale', startModel.kind === 'bars' && startModel.yLog);
    same('start-cost: first row named from the table', startModel.categories[0].label,
        'platform thread (baseline) · JVM');

    const sw = await fixture('series-switch-interval');
    const swModel = buildModel(groupByChart(sw.series)[0]);
    check('switch-interval: both axes log (0.1..50 ms)', swModel.xLog && swModel.yLog);
    check('switch-interval: "one interval" is the reference', swModel.series[1].reference);

    const starvation = await fixture('series-cpu-starvation');
    const starvationModel = buildModel(groupByChart(starvation.series)[0], starvation.tables);
    const shared = starvationModel.categories.filter(c => c.values.length === 2).map(c => c.label);
    same('cpu-starvation: only the named variants are shared by JVM and CPython', shared,
        ['baseline', 'on the loop']);

    // ---- chart DOM ----
    let slot = fresh();
    let drawn = renderCharts(slot, amdahl.series, {tables: amdahl.tables});
    same('renderCharts(amdahl) draws one figure', [drawn.charts, slot.querySelectorAll('figure').length], [1, 1]);
    same('amdahl legend: three entries, one tagged reference',
        [slot.querySelectorAll('.cl-chart-legend li').length, slot.querySelectorAll('.cl-ref-tag').length], [3, 1]);
    const svg = slot.querySelector('svg[role="img"]');
    check('amdahl: the chart is focusable and described', svg && svg.getAttribute('tabindex') === '0'
        && svg.querySelector('desc').textContent.includes('Line chart'));
    const firstMarker = svg.querySelector('circle:not(.cl-highlight)');
    pointerAt(svg, Number(firstMarker.getAttribute('cx')), Number(firstMarker.getAttribute('cy')));
    const tip = slot.querySelector('.cl-chart-tip');
    check('hovering a marker shows its exact value', !tip.hidden
        && tip.textContent.includes(formatExact(amdahl.series[0].points[0].y)), tip.textContent);
    svg.dispatchEvent(new PointerEvent('pointerleave'));
    check('leaving the chart hides the tooltip', tip.hidden);
    svg.focus();
    svg.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowRight', bubbles: true}));
    check('the arrow key shows the first point without a mouse', !tip.hidden && tip.textContent.includes('workers: 1'),
        tip.textContent);
    same('the data table lists every point', slot.querySelectorAll('.cl-chart-data tbody tr').length,
        amdahl.series.reduce((n, s) => n + s.points.length, 0));

    slot = fresh();
    renderCharts(slot, start.series, {tables: start.tables});
    const labels = [...slot.querySelectorAll('.cl-axis-label')].map(t => t.textContent);
    check('start-cost: the axis says "log scale"', labels.some(l => l.includes('(log scale)')), labels.join(' | '));
    check('start-cost: category labels drawn as text', [...slot.querySelectorAll('.cl-cat-label')]
        .some(t => t.textContent === 'virtual thread · JVM'));

    slot = fresh();
    renderCharts(slot, await fixture('series-event-loop').then(r => r.series));
    same('event-loop: two charts, JVM beside CPython', [...slot.querySelectorAll('figcaption')].map(f => f.textContent),
        ['N waits of D ms on one thread', "Heartbeat's largest gap"]);
    const gapSvg = slot.querySelectorAll('svg[role="img"]')[1];
    const jvmAt100 = [...gapSvg.querySelectorAll('circle:not(.cl-highlight)')].at(-1); // JVM loop, x = 100 ms
    pointerAt(gapSvg, Number(jvmAt100.getAttribute('cx')), Number(jvmAt100.getAttribute('cy')));
    const gapTip = slot.querySelectorAll('.cl-chart-tip')[1];
    check('a tooltip names every series drawn on the same spot (JVM and CPython both near 100 ms)',
        !gapTip.hidden && gapTip.textContent.includes('JVM loop') && gapTip.textContent.includes('CPython asyncio — ms: 100.298'),
        gapTip.textContent);

    slot = fresh();
    const evil = '<img src=x onerror="window.pwned=1">';
    renderCharts(slot, [{chart: evil, name: evil, xLabel: evil, yLabel: evil, points: [{x: 1, y: 1}, {x: 2, y: 3}]}]);
    check('chart strings are text, never markup', slot.querySelector('img') === null
        && slot.querySelector('figcaption').textContent === evil && window.pwned === undefined);

    slot = fresh();
    slot.textContent = 'old';
    drawn = renderCharts(slot, []);
    check('no series: nothing drawn, slot emptied', drawn.charts === 0 && slot.childNodes.length === 0);
    same('renderCharts tolerates null', renderCharts(fresh(), null).charts, 0);

    // ---- timeline: pure parts ----
    const rows = assignRows([
        {name: 'holds A', ts: 0, dur: 100}, {name: 'waits for B', ts: 40, dur: 50},
        {name: 'holds B', ts: 90, dur: 5}, {name: 'later', ts: 100, dur: 10},
    ]);
    same('nested spans stack below their parent', rows.map(r => r.map(s => s.name)),
        [['holds A', 'later'], ['waits for B', 'holds B']]);
    const row = [{ts: 0, dur: 10}, {ts: 20, dur: 10}, {ts: 40, dur: 10}];
    same('firstEndingAfter finds the first visible span', [firstEndingAfter(row, 0), firstEndingAfter(row, 15),
        firstEndingAfter(row, 30), firstEndingAfter(row, 51)], [0, 1, 1, 3]);
    same('kindOf folds numbers', [kindOf('A12'), kindOf('t0_13'), kindOf('backs off 30 ms')],
        ['A#', 't#_#', 'backs off # ms']);
    same('formatDuration picks the unit', [formatDuration(0.85), formatDuration(12.5), formatDuration(3421),
        formatDuration(1481520)], ['850 ns', '12.5 µs', '3.42 ms', '1.48 s']);
    same('timeTicks over 0..1000 µs', timeTicks(0, 1000, 5).ticks, [0, 200, 400, 600, 800, 1000]);
    const zoomed = zoomView({start: 0, end: 1000}, 0.5, 250, 1000);
    near('zooming in halves the range', zoomed.end - zoomed.start, 500);
    near('zooming keeps the anchor in place', (250 - zoomed.start) / (zoomed.end - zoomed.start), 0.25);
    const tiny = zoomView({start: 0, end: 2}, 0.001, 1, 1000);
    near('zoom stops at 1 µs', tiny.end - tiny.start, 1);
    const out = zoomView({start: 0, end: 1000}, 100, 500, 1000);
    same('zoom out stops at the whole trace plus 2%', [out.start, out.end], [-20, 1020]);
    same('panning stops at the end', panView({start: 0, end: 500}, 10000, 1000), {start: 520, end: 1020});

    const deadlock = await fixture('trace-deadlock');
    const parsed = parseTrace(deadlock.trace);
    same('deadlock trace: 9 named lanes, 36 spans', [parsed.lanes.length, parsed.spanCount], [9, 36]);
    same('lanes are grouped by the part before " · "', [parsed.lanes[0].group, parsed.lanes[0].label],
        ['broken: opposite orders', 'deadlock-1']);
    same('times start at the first event', Math.min(...parsed.lanes.flatMap(l => l.rows.flat().map(s => s.ts))), 0);
    check('"holds A" encloses "waits for B" on deadlock-1, so that lane has two rows',
        parsed.lanes[0].rows.length === 2);
    same('{traceEvents} and a bare array parse alike', parseTrace({traceEvents: deadlock.trace}).spanCount, 36);
    const gil = parseTrace((await fixture('trace-gil-model')).trace);
    same('gil-model: instants kept', gil.lanes.reduce((n, l) => n + l.instants.length, 0), 66);

    // ---- timeline DOM ----
    slot = fresh();
    const handle = renderTimeline(slot, deadlock.trace, {filename: 'deadlock-trace.json'});
    same('renderTimeline(deadlock) reports lanes and spans', [handle.lanes, handle.spans], [9, 36]);
    const canvas = slot.querySelector('canvas[role="img"]');
    check('the timeline canvas is focusable and labelled', canvas && canvas.tabIndex === 0
        && canvas.getAttribute('aria-label').includes('9 lanes'));
    check('a download button is offered with a Perfetto hint', slot.querySelector('.cl-timeline-download') !== null
        && slot.querySelector('.cl-timeline-hint').textContent.includes('Perfetto'));
    const before = handle.view();
    canvas.dispatchEvent(new KeyboardEvent('keydown', {key: '+', bubbles: true}));
    const after = handle.view();
    near('the + key halves the visible range', (after.end - after.start) / (before.end - before.start), 0.5, 1e-9);
    canvas.dispatchEvent(new KeyboardEvent('keydown', {key: '0', bubbles: true}));
    near('0 fits the whole trace again', handle.view().end - handle.view().start, before.end - before.start, 1e-6);
    same('the lanes table has one row per lane', slot.querySelectorAll('.cl-timeline-data tbody tr').length, 9);
    // hover the middle of the longest span of the first lane ("holds A", 54 ms)
    const first = parsed.lanes[0].rows[0].reduce((a, b) => (b.dur > a.dur ? b : a));
    const gutter = Math.round(Math.min(220, Math.max(96, (canvas.clientWidth) * 0.3)));
    const span = handle.view();
    const x = gutter + (first.ts + first.dur / 2 - span.start) / (span.end - span.start) * (canvas.clientWidth - gutter - 8);
    const laneTop = 24 + 4 + 18; // axis, padding, group header
    pointerAt(canvas, x, laneTop + 9);
    const ttip = slot.querySelector('.cl-timeline-tip');
    check('hovering a span names it, its lane and its duration', !ttip.hidden && ttip.textContent.includes(first.name)
        && ttip.textContent.includes('broken: opposite orders · deadlock-1')
        && ttip.textContent.includes(formatDuration(first.dur)), ttip.textContent);
    ttip.hidden = true;

    const box = canvas.getBoundingClientRect();
    const whole = handle.view();
    const wheel = new WheelEvent('wheel', {deltaY: -400, clientX: box.left + gutter + 100, clientY: box.top + 60,
        bubbles: true, cancelable: true});
    canvas.dispatchEvent(wheel);
    const wheeled = handle.view();
    check('the wheel over the lanes zooms in and keeps the page from scrolling', wheel.defaultPrevented
        && wheeled.end - wheeled.start < (whole.end - whole.start) * 0.8,
        `${wheeled.end - wheeled.start} vs ${whole.end - whole.start}`);
    const gutterWheel = new WheelEvent('wheel', {deltaY: -400, clientX: box.left + 10, clientY: box.top + 60,
        bubbles: true, cancelable: true});
    canvas.dispatchEvent(gutterWheel);
    check('the wheel over the lane names scrolls the page as usual', !gutterWheel.defaultPrevented);
    const drag = {bubbles: true, pointerId: 7, button: 0, clientY: box.top + 60};
    canvas.dispatchEvent(new PointerEvent('pointerdown', {...drag, clientX: box.left + gutter + 200}));
    canvas.dispatchEvent(new PointerEvent('pointermove', {...drag, clientX: box.left + gutter + 100}));
    canvas.dispatchEvent(new PointerEvent('pointerup', {...drag, clientX: box.left + gutter + 100}));
    const dragged = handle.view();
    const perPx = (wheeled.end - wheeled.start) / (canvas.clientWidth - gutter - 8);
    near('dragging left by 100 px moves the view 100 px later', dragged.start - wheeled.start, 100 * perPx, 1e-6);
    near('dragging keeps the zoom', dragged.end - dragged.start, wheeled.end - wheeled.start, 1e-6);

    const press = key => {
        const e = new KeyboardEvent('keydown', {key, bubbles: true, cancelable: true});
        canvas.dispatchEvent(e);
        return e;
    };
    const byStart = parsed.lanes.flatMap(l => l.rows.flat().map(s => ({s, lane: l})))
        .sort((a, b) => a.s.ts - b.s.ts);
    press('0');
    press('n');
    check('n selects the first span in time and reads it out', !ttip.hidden
        && ttip.textContent.startsWith(byStart[0].s.name) && ttip.textContent.includes(byStart[0].lane.name),
        ttip.textContent);
    press('n');
    check('n again moves to the next span', ttip.textContent.startsWith(byStart[1].s.name), ttip.textContent);
    press('p');
    press('p');
    const last = byStart.at(-1).s;
    const shown = handle.view();
    check('p from the first wraps to the last span and pans it into view', ttip.textContent.startsWith(last.name)
        && last.ts <= shown.end && last.ts + last.dur >= shown.start, ttip.textContent);
    for (let i = 0; i < 6; i++) {
        press('+');
    }
    press('n');
    const firstSpan = byStart[0].s;
    const zoomedIn = handle.view();
    check('zoomed in, stepping on pans to the span', ttip.textContent.startsWith(firstSpan.name)
        && firstSpan.ts <= zoomedIn.end && firstSpan.ts + firstSpan.dur >= zoomedIn.start, JSON.stringify(zoomedIn));
    check('Escape closes the tooltip and is taken', press('Escape').defaultPrevented && ttip.hidden);
    check('Escape with nothing open is left to the page', !press('Escape').defaultPrevented);
    handle.destroy();

    slot = fresh();
    const gilTrace = (await fixture('trace-gil-model')).trace;
    const gilHandle = renderTimeline(slot, gilTrace);
    const gilCanvas = slot.querySelector('canvas[role="img"]');
    const instant = gil.lanes[0].instants[0];
    const gilGutter = Math.round(Math.min(220, Math.max(96, gilCanvas.clientWidth * 0.3)));
    const gilView = gilHandle.view();
    const ix = gilGutter + (instant.ts - gilView.start) / (gilView.end - gilView.start)
        * (gilCanvas.clientWidth - gilGutter - 8);
    pointerAt(gilCanvas, ix, 24 + 4 + 18 + 3); // the first lane's mark strip, under its group header
    const gilTip = slot.querySelector('.cl-timeline-tip');
    check('hovering a mark names the instant and its lane', !gilTip.hidden && gilTip.textContent.includes(instant.name)
        && gilTip.textContent.includes('(instant)') && gilTip.textContent.includes(gil.lanes[0].name),
        gilTip.textContent);
    gilHandle.destroy();

    slot = fresh();
    renderTimeline(slot, [{ph: 'M', name: 'thread_name', pid: 1, tid: 1, args: {name: evil}},
        {ph: 'X', name: evil, pid: 1, tid: 1, ts: 0, dur: 5}]);
    check('timeline strings are text, never markup', slot.querySelector('img') === null && window.pwned === undefined
        && slot.querySelector('.cl-timeline-data td').textContent === evil);
    slot = fresh();
    same('an empty trace draws nothing', [renderTimeline(slot, []).spans, slot.childNodes.length], [0, 0]);
    same('metadata alone draws nothing', renderTimeline(fresh(), [{ph: 'M', name: 'thread_name', tid: 1,
        args: {name: 'x'}}]).lanes, 0);
    stage.replaceChildren();
}

try {
    await run();
} catch (error) {
    check('the self-test ran to the end', false, String(error && error.stack || error));
}
if (document.body.dataset.result === 'FAIL') {
    // an uncaught error (e.g. in an event handler) already failed the run: keep its message
    check('no uncaught error while testing', false, document.getElementById('summary').textContent);
}
const failed = results.filter(r => !r.ok);
const summary = document.getElementById('summary');
summary.textContent = failed.length === 0 ? `PASS ${results.length}/${results.length}`
    : `FAIL ${failed.length} of ${results.length}: ${failed.map(f => f.name).join('; ')}`;
summary.className = failed.length === 0 ? 'pass' : 'fail';
document.body.dataset.result = failed.length === 0 ? 'PASS' : 'FAIL';
document.title = `charts self-test: ${document.body.dataset.result}`;
