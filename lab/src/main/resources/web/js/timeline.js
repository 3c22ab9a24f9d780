/**
 * The trace timeline of a run, drawn on a canvas: one swimlane per thread, from Chrome Trace Event data as the
 * engine's Trace writes it (RunRecord.result.trace, or the {traceEvents} object of `./conclab run --trace FILE`).
 *
 * - `ph: "X"` complete events (ts and dur in µs) are spans; spans that overlap on one lane (a lock held while
 *   waiting for another) stack in rows below each other. `ph: "i"`/`"I"` instants are marks at the top of their
 *   lane. `ph: "M"` thread_name metadata names the lanes; a name "group · thread" puts lanes under a group header.
 * - Spans are coloured by kind (their name with digits folded, so A0…A39 share one colour); waiting spans
 *   ("waits…", "blocked…", "sleep…", "idle…") are also hatched, so they differ without colour. The name is written
 *   inside a span when it fits; hover (or the tooltip) shows name, lane, start and duration.
 * - Zoom with the wheel over the lanes, the + / − buttons, or the + and - keys; pan by dragging or with the
 *   arrow keys; 0 (or Fit) shows the whole trace. Only what is on screen is drawn (binary search per row, spans
 *   narrower than a pixel merged), so thousands of events stay smooth.
 * - "Download trace" saves the events as a Chrome Trace Event JSON file to open in Perfetto or chrome://tracing.
 *
 * Every string from the data reaches the DOM through textContent (or is drawn on the canvas), never innerHTML.
 * Thread model: plain browser main-thread code; re-draws on resize and theme change until the element leaves the
 * document, a later renderTimeline call on the same element, or the returned handle's destroy().
 */

import {detailsTable, el, ensureStylesheet, fillTip, legendItem} from './charts.js';

const ROW_HEIGHT = 18;
const LANE_GAP = 6;
const GROUP_HEIGHT = 18;
const AXIS_HEIGHT = 24;
const INSTANT_STRIP = 8;
const MIN_SPAN_US = 1;
const WAITING = /^(wait|waits|waiting|blocked|blocks|sleep|sleeps|sleeping|idle|parked|parks)\b/i;
const COLOURS = 8;

const disposers = new WeakMap();

/**
 * Draws the timeline of `traceEvents` into `element`, replacing what it held; draws nothing for an empty trace.
 *
 * @param {Element} element the slot (emptied first)
 * @param {Array|{traceEvents: Array}} traceEvents Chrome Trace Event objects
 * @param {{filename?: string}} [options] `filename`: the name of the downloaded JSON file
 * @returns {{spans: number, lanes: number, destroy: function, view: function}} what was drawn; destroy() stops
 *     the listeners; view() tells the visible range in µs from the trace's first event
 */
export function renderTimeline(element, traceEvents, options = {}) {
    disposers.get(element)?.();
    element.replaceChildren();
    const trace = parseTrace(traceEvents);
    if (trace.lanes.length === 0) {
        return {spans: 0, lanes: 0, destroy() {}, view: () => null};
    }
    const styled = ensureStylesheet();
    const timeline = new Timeline(element, trace, options);
    styled.then(() => timeline.themeChanged());
    disposers.set(element, () => timeline.destroy());
    return {
        spans: trace.spanCount,
        lanes: trace.lanes.length,
        destroy: () => {
            timeline.destroy();
            disposers.delete(element);
        },
        view: () => ({...timeline.view}),
    };
}

// ---------------------------------------------------------------------------------------------------------------
// Pure functions (exported for web/dev/charts-selftest.html)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Lanes, spans and instants of a trace, with times made relative to its first event (µs).
 * Lanes are ordered by pid then tid; each lane's spans are split into rows where no two spans overlap, each row
 * sorted by start (so ends are sorted too, which the culling's binary search needs).
 */
export function parseTrace(input) {
    const events = Array.isArray(input) ? input : Array.isArray(input?.traceEvents) ? input.traceEvents : [];
    const names = new Map();
    const lanes = new Map();
    let origin = Infinity;
    let end = -Infinity;
    const lane = (pid, tid) => {
        const key = `${pid}:${tid}`;
        if (!lanes.has(key)) {
            lanes.set(key, {key, pid, tid, spans: [], instants: []});
        }
        return lanes.get(key);
    };
    for (const e of events) {
        if (!e || typeof e !== 'object') {
            continue;
        }
        const pid = e.pid ?? 0;
        const tid = e.tid ?? 0;
        if (e.ph === 'M') {
            if (e.name === 'thread_name' && e.args && e.args.name != null) {
                names.set(`${pid}:${tid}`, String(e.args.name));
            }
            continue;
        }
        const ts = Number(e.ts);
        if (!Number.isFinite(ts)) {
            continue;
        }
        if (e.ph === 'X') {
            const dur = Math.max(0, Number(e.dur) || 0);
            lane(pid, tid).spans.push({name: String(e.name ?? ''), ts, dur});
            origin = Math.min(origin, ts);
            end = Math.max(end, ts + dur);
        } else if (e.ph === 'i' || e.ph === 'I') {
            lane(pid, tid).instants.push({name: String(e.name ?? ''), ts});
            origin = Math.min(origin, ts);
            end = Math.max(end, ts);
        }
    }
    const kinds = new Map();
    const result = [...lanes.values()].sort((a, b) => compareIds(a.pid, b.pid) || compareIds(a.tid, b.tid));
    let spanCount = 0;
    for (const l of result) {
        const name = names.get(l.key) ?? `thread ${l.tid}`;
        const split = name.indexOf(' · ');
        l.name = name;
        l.group = split > 0 ? name.slice(0, split) : '';
        l.label = split > 0 ? name.slice(split + 3) : name;
        for (const s of l.spans) {
            s.ts -= origin;
            s.kind = kindOf(s.name);
            s.waiting = WAITING.test(s.name);
            if (!kinds.has(s.kind)) {
                kinds.set(s.kind, {kind: s.kind, example: s.name, waiting: s.waiting, colour: kinds.size % COLOURS});
            }
            s.colour = kinds.get(s.kind).colour;
        }
        for (const i of l.instants) {
            i.ts -= origin;
        }
        l.instants.sort((a, b) => a.ts - b.ts);
        l.rows = assignRows(l.spans);
        l.busy = l.rows.length ? unionLength(l.spans) : 0;
        spanCount += l.spans.length;
        delete l.spans;
    }
    const duration = Number.isFinite(end) ? Math.max(end - origin, MIN_SPAN_US) : 0;
    return {lanes: result, duration, spanCount, kinds: [...kinds.values()], events};
}

/**
 * Splits spans into rows of non-overlapping spans, greedily, in order of start (longer first at equal starts), so
 * an enclosing span lies above the spans it encloses.
 */
export function assignRows(spans) {
    const sorted = [...spans].sort((a, b) => a.ts - b.ts || b.dur - a.dur);
    const rows = [];
    const ends = [];
    for (const s of sorted) {
        let r = 0;
        while (r < rows.length && ends[r] > s.ts + 1e-6) {
            r++;
        }
        if (r === rows.length) {
            rows.push([]);
            ends.push(-Infinity);
        }
        rows[r].push(s);
        ends[r] = s.ts + s.dur;
    }
    return rows;
}

/** The index of the first span in `row` (sorted, non-overlapping) that ends at or after `t`; row.length if none. */
export function firstEndingAfter(row, t) {
    let lo = 0;
    let hi = row.length;
    while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (row[mid].ts + row[mid].dur < t) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/** The colour key of a span name: digits folded, so "A0" and "A12" (or "t0_1" and "t3_7") are one kind. */
export function kindOf(name) {
    return String(name).replace(/\d+(\.\d+)?/g, '#');
}

/** A duration in µs, in the unit that reads best: "850 ns", "12.5 µs", "3.42 ms", "1.48 s". */
export function formatDuration(us) {
    const abs = Math.abs(us);
    if (abs === 0) {
        return '0';
    }
    if (abs < 1) {
        return `${trim(us * 1000)} ns`;
    }
    if (abs < 1000) {
        return `${trim(us)} µs`;
    }
    if (abs < 1e6) {
        return `${trim(us / 1000)} ms`;
    }
    return `${trim(us / 1e6)} s`;
}

function trim(v) {
    return String(Number(v.toPrecision(3)));
}

/**
 * Time-axis ticks over [start, end] µs: a 1, 2 or 5 × 10^k step giving about `count` ticks.
 * @returns {{step: number, ticks: number[]}}
 */
export function timeTicks(start, end, count = 6) {
    const span = Math.max(end - start, 1e-6);
    const raw = span / Math.max(1, count);
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / power;
    const step = (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * power;
    const ticks = [];
    for (let t = Math.ceil(start / step - 1e-9) * step; t <= end + 1e-9; t += step) {
        ticks.push(Number(t.toPrecision(12)));
    }
    return {step, ticks};
}

/**
 * The view after zooming by `factor` (< 1 zooms in) around time `anchor`, kept within [−pad, duration + pad] and
 * no narrower than 1 µs.
 */
export function zoomView(view, factor, anchor, duration) {
    const pad = duration * 0.02;
    const full = duration + 2 * pad;
    const width = Math.min(full, Math.max(MIN_SPAN_US, (view.end - view.start) * factor));
    const ratio = view.end > view.start ? (anchor - view.start) / (view.end - view.start) : 0.5;
    return clampView({start: anchor - ratio * width, end: anchor - ratio * width + width}, duration);
}

/** The view moved by `delta` µs, kept within [−pad, duration + pad]. */
export function panView(view, delta, duration) {
    return clampView({start: view.start + delta, end: view.end + delta}, duration);
}

function clampView(view, duration) {
    const pad = duration * 0.02;
    const width = view.end - view.start;
    let start = view.start;
    if (start < -pad) {
        start = -pad;
    }
    if (start + width > duration + pad) {
        start = Math.max(-pad, duration + pad - width);
    }
    return {start, end: start + width};
}

function compareIds(a, b) {
    const na = Number(a);
    const nb = Number(b);
    return Number.isFinite(na) && Number.isFinite(nb) ? na - nb : String(a).localeCompare(String(b));
}

function unionLength(spans) {
    const sorted = [...spans].sort((a, b) => a.ts - b.ts);
    let total = 0;
    let runStart = -Infinity;
    let runEnd = -Infinity;
    for (const s of sorted) {
        if (s.ts > runEnd) {
            total += Math.max(0, runEnd - runStart);
            runStart = s.ts;
            runEnd = s.ts + s.dur;
        } else {
            runEnd = Math.max(runEnd, s.ts + s.dur);
        }
    }
    return total + Math.max(0, runEnd - runStart);
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------------------------

/** The widget: toolbar, legend, canvas, tooltip and summary table; owns its listeners until destroy(). */
class Timeline {
    constructor(element, trace, options) {
        this.trace = trace;
        this.filename = options.filename || 'trace.json';
        this.view = this.fullView();
        this.cleanups = [];
        this.frame = 0;
        this.colours = null;
        this.selected = null;
        this.layout = this.computeLayout();

        this.root = el('div', {class: 'cl-timeline'});
        this.root.append(this.toolbar(), this.legend());
        this.viewport = el('div', {class: 'cl-timeline-view'});
        this.canvas = el('canvas', {
            tabindex: '0',
            role: 'img',
            'aria-label': `Trace timeline: ${trace.lanes.length} lanes, ${trace.spanCount} spans over `
                + `${formatDuration(trace.duration)}. Keys: + and - zoom, arrow keys pan, 0 shows all, `
                + 'n and p step through the spans.',
        });
        this.tip = el('div', {class: 'cl-timeline-tip', hidden: ''});
        this.viewport.append(this.canvas);
        this.root.append(this.viewport, this.hint(), this.summary(), this.tip);
        element.append(this.root);
        this.listen();
        this.draw();
    }

    fullView() {
        const pad = this.trace.duration * 0.02;
        return {start: -pad, end: this.trace.duration + pad};
    }

    /** Vertical layout: group headers and, per lane, its instant strip and span rows, in CSS px. */
    computeLayout() {
        const rows = [];
        const groups = [];
        const lanes = [];
        const order = [];
        let y = AXIS_HEIGHT + 4;
        let group = null;
        for (const lane of this.trace.lanes) {
            if (lane.group && lane.group !== group) {
                groups.push({label: lane.group, y});
                y += GROUP_HEIGHT;
            }
            group = lane.group;
            const top = y;
            const strip = lane.instants.length ? INSTANT_STRIP : 0;
            y += strip;
            lane.rows.forEach((row, index) => {
                rows.push({lane, row, index, y});
                row.forEach(span => order.push({lane, span, y}));
                y += ROW_HEIGHT;
            });
            if (lane.rows.length === 0) {
                y += ROW_HEIGHT / 2;
            }
            lanes.push({lane, top, bottom: y, strip});
            y += LANE_GAP;
        }
        order.sort((a, b) => a.span.ts - b.span.ts || a.y - b.y);
        return {rows, groups, lanes, order, height: y + 4};
    }

    toolbar() {
        const bar = el('div', {class: 'cl-timeline-bar'});
        const button = (label, title, action) => {
            const b = el('button', {type: 'button', title, 'aria-label': title}, label);
            b.addEventListener('click', action);
            bar.append(b);
            return b;
        };
        button('+', 'Zoom in', () => this.zoom(0.5));
        button('−', 'Zoom out', () => this.zoom(2));
        button('Fit', 'Show the whole trace', () => this.setView(this.fullView()));
        this.range = el('span', {class: 'cl-timeline-range', 'aria-live': 'polite'});
        bar.append(this.range);
        const download = button('Download trace', 'Download the trace as Chrome Trace Event JSON',
            () => this.download());
        download.classList.add('cl-timeline-download');
        return bar;
    }

    legend() {
        const list = el('ul', {class: 'cl-timeline-legend'});
        const shown = this.trace.kinds.slice(0, 12);
        this.swatches = [];
        for (const kind of shown) {
            const swatch = el('canvas', {width: 22, height: 12, 'aria-hidden': 'true'});
            swatch.style.width = '22px';
            swatch.style.height = '12px';
            this.swatches.push({swatch, kind});
            const label = kind.kind.includes('#') ? kind.kind.replaceAll('#', 'N') : kind.kind;
            list.append(legendItem(swatch, label, kind.waiting ? '(hatched: waiting)' : ''));
        }
        if (this.trace.kinds.length > shown.length) {
            list.append(el('li', {}, `+${this.trace.kinds.length - shown.length} more kinds`));
        }
        return list;
    }

    hint() {
        const p = el('p', {class: 'cl-timeline-hint'});
        p.append('Wheel or + / − to zoom, drag or arrow keys to pan, 0 to fit, n / p to step through the spans. '
            + 'For a full viewer, download the trace and open it in Perfetto (');
        const link = el('a', {href: 'https://ui.perfetto.dev', target: '_blank', rel: 'noopener noreferrer'},
            'ui.perfetto.dev');
        p.append(link, ' → Open trace file) or chrome://tracing.');
        return p;
    }

    summary() {
        const rows = this.trace.lanes.map(lane => {
            const spans = lane.rows.reduce((n, r) => n + r.length, 0);
            const share = this.trace.duration > 0 ? `${Math.round(100 * lane.busy / this.trace.duration)}%` : '—';
            return [[lane.name], [String(spans), true], [String(lane.instants.length), true],
                [formatDuration(lane.busy), true], [share, true]];
        });
        return detailsTable('cl-timeline-data', 'Lanes', ['lane', 'spans', 'marks', 'busy', 'busy share'], rows);
    }

    download() {
        const body = JSON.stringify({traceEvents: this.trace.events, displayTimeUnit: 'ms'});
        const url = URL.createObjectURL(new Blob([body], {type: 'application/json'}));
        const a = el('a', {href: url, download: this.filename});
        a.style.display = 'none';
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(url), 0);
    }

    listen() {
        const on = (target, type, handler, options) => {
            target.addEventListener(type, handler, options);
            this.cleanups.push(() => target.removeEventListener(type, handler, options));
        };
        const c = this.canvas;
        on(c, 'wheel', e => this.wheel(e), {passive: false});
        on(c, 'pointerdown', e => this.pointerDown(e));
        on(c, 'pointermove', e => this.pointerMove(e));
        on(c, 'pointerup', e => this.pointerUp(e));
        on(c, 'pointercancel', e => this.pointerUp(e));
        on(c, 'pointerleave', () => {
            if (!this.drag) {
                this.hideTip();
            }
        });
        on(c, 'keydown', e => this.key(e));
        on(c, 'blur', () => this.hideTip());
        if (typeof ResizeObserver === 'function') {
            const resize = new ResizeObserver(() => {
                if (this.measureWidth() !== this.width) {
                    this.redraw();
                }
            });
            resize.observe(this.viewport);
            this.cleanups.push(() => resize.disconnect());
        }
        const media = window.matchMedia?.('(prefers-color-scheme: dark)');
        if (media) {
            on(media, 'change', () => this.themeChanged());
        }
        if (typeof MutationObserver === 'function') {
            const theme = new MutationObserver(() => this.themeChanged());
            theme.observe(document.documentElement,
                {attributes: true, attributeFilter: ['class', 'data-theme', 'style']});
            if (document.body) {
                theme.observe(document.body, {attributes: true, attributeFilter: ['class', 'data-theme']});
            }
            this.cleanups.push(() => theme.disconnect());
        }
    }

    destroy() {
        this.destroyed = true;
        this.cleanups.splice(0).forEach(f => f());
        cancelAnimationFrame(this.frame);
    }

    themeChanged() {
        this.colours = null;
        this.redraw();
    }

    /** Draws now (resize, theme: rare events), unless destroyed or gone from the document. */
    redraw() {
        if (this.destroyed) {
            return;
        }
        if (!this.root.isConnected) {
            this.destroy();
            return;
        }
        cancelAnimationFrame(this.frame);
        this.draw();
    }

    /** Draws at the next frame, once however many zoom / pan steps come before it. */
    schedule() {
        if (this.destroyed) {
            return;
        }
        cancelAnimationFrame(this.frame);
        this.frame = requestAnimationFrame(() => this.redraw());
    }

    measureWidth() {
        return Math.max(320, Math.floor(this.viewport.clientWidth || 640) - 2);
    }

    setView(view) {
        this.view = view;
        this.schedule();
    }

    zoom(factor, anchor) {
        const at = anchor ?? (this.view.start + this.view.end) / 2;
        this.setView(zoomView(this.view, factor, at, this.trace.duration));
    }

    pan(deltaUs) {
        this.setView(panView(this.view, deltaUs, this.trace.duration));
    }

    gutter() {
        return Math.round(Math.min(220, Math.max(96, this.width * 0.3)));
    }

    usPerPx() {
        return (this.view.end - this.view.start) / Math.max(1, this.width - this.gutter() - 8);
    }

    timeAt(x) {
        return this.view.start + (x - this.gutter()) * this.usPerPx();
    }

    xOf(t) {
        return this.gutter() + (t - this.view.start) / this.usPerPx();
    }

    local(event) {
        const box = this.canvas.getBoundingClientRect();
        return {x: event.clientX - box.left, y: event.clientY - box.top};
    }

    wheel(event) {
        const {x} = this.local(event);
        if (x < this.gutter()) {
            return;
        }
        event.preventDefault();
        if (Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
            this.pan(event.deltaX * this.usPerPx());
        } else {
            this.zoom(Math.exp(event.deltaY * 0.0015), this.timeAt(x));
        }
    }

    pointerDown(event) {
        const {x} = this.local(event);
        if (x < this.gutter() || event.button !== 0) {
            return;
        }
        this.drag = {x: event.clientX, view: this.view, id: event.pointerId};
        try {
            this.canvas.setPointerCapture(event.pointerId);
        } catch {
            // a pointer the browser no longer tracks (or a synthetic one): dragging still works while over the canvas
        }
        this.canvas.classList.add('cl-dragging');
        this.hideTip();
    }

    pointerMove(event) {
        if (this.drag) {
            const dx = event.clientX - this.drag.x;
            this.setView(panView(this.drag.view, -dx * this.usPerPx(), this.trace.duration));
            return;
        }
        const {x, y} = this.local(event);
        const hit = this.hitTest(x, y);
        if (hit) {
            this.showTip(hit, x, y);
        } else {
            this.hideTip();
        }
    }

    pointerUp(event) {
        if (this.drag && this.drag.id === event.pointerId) {
            if (this.canvas.hasPointerCapture(event.pointerId)) {
                this.canvas.releasePointerCapture(event.pointerId);
            }
            this.canvas.classList.remove('cl-dragging');
            this.drag = null;
        }
    }

    key(event) {
        const width = this.view.end - this.view.start;
        switch (event.key) {
            case '+':
            case '=':
                this.zoom(0.5);
                break;
            case '-':
            case '_':
                this.zoom(2);
                break;
            case 'ArrowLeft':
                this.pan(-width * 0.1);
                break;
            case 'ArrowRight':
                this.pan(width * 0.1);
                break;
            case '0':
            case 'Home':
                this.setView(this.fullView());
                break;
            case 'n':
            case ']':
                this.step(1);
                break;
            case 'p':
            case '[':
                this.step(-1);
                break;
            case 'Escape':
                if (this.tip.hidden && !this.selected) {
                    return; // nothing to close: the page may use Escape (the web lab goes back to the catalog)
                }
                this.selected = null;
                this.hideTip();
                this.redraw();
                break;
            default:
                return;
        }
        event.preventDefault();
    }

    /**
     * Selects the next (+1) or previous (-1) span in time order, across lanes, pans to it when it is out of view,
     * outlines it and shows its tooltip: the keyboard's way to read the spans.
     */
    step(direction) {
        const order = this.layout.order;
        if (order.length === 0) {
            return;
        }
        const at = this.selected ? order.indexOf(this.selected) : -1;
        const next = at < 0 ? (direction > 0 ? 0 : order.length - 1) : (at + direction + order.length) % order.length;
        this.selected = order[next];
        const s = this.selected.span;
        if (s.ts + s.dur < this.view.start || s.ts > this.view.end) {
            const middle = (this.view.start + this.view.end) / 2;
            this.view = panView(this.view, s.ts + s.dur / 2 - middle, this.trace.duration);
        }
        this.redraw();
        const x = Math.min(this.width - 8, Math.max(this.gutter(), this.xOf(s.ts + s.dur / 2)));
        this.showTip({lane: this.selected.lane, span: s}, x, this.selected.y + ROW_HEIGHT / 2);
    }

    /** The span or instant under (x, y) in canvas px, or null. */
    hitTest(x, y) {
        if (x < this.gutter()) {
            return null;
        }
        const t = this.timeAt(x);
        const tolerance = 3 * this.usPerPx();
        for (const l of this.layout.lanes) {
            if (l.strip && y >= l.top && y < l.top + l.strip + 2) {
                const instants = l.lane.instants;
                let best = null;
                for (const i of instants) {
                    const d = Math.abs(i.ts - t);
                    if (d <= 5 * this.usPerPx() && (!best || d < Math.abs(best.ts - t))) {
                        best = i;
                    }
                }
                if (best) {
                    return {lane: l.lane, instant: best};
                }
            }
        }
        const row = this.layout.rows.find(r => y >= r.y && y < r.y + ROW_HEIGHT);
        if (!row) {
            return null;
        }
        let best = null;
        for (let i = firstEndingAfter(row.row, t - tolerance); i < row.row.length; i++) {
            const s = row.row[i];
            if (s.ts > t + tolerance) {
                break;
            }
            const distance = t < s.ts ? s.ts - t : t > s.ts + s.dur ? t - s.ts - s.dur : 0;
            if (!best || distance < best.distance) {
                best = {distance, span: s};
            }
        }
        return best ? {lane: row.lane, span: best.span} : null;
    }

    showTip(hit, x, y) {
        if (hit.span) {
            fillTip(this.tip, hit.span.name, [`lane: ${hit.lane.name}`, `start: ${formatDuration(hit.span.ts)}`,
                `duration: ${formatDuration(hit.span.dur)}`]);
        } else {
            fillTip(this.tip, hit.instant.name, [`lane: ${hit.lane.name}`,
                `at: ${formatDuration(hit.instant.ts)} (instant)`]);
        }
        // the tip lives in the root, not in the scrolling viewport, so it never adds scroll bars or gets cut off
        const root = this.root.getBoundingClientRect();
        const canvas = this.canvas.getBoundingClientRect();
        const px = canvas.left - root.left + x;
        const w = this.tip.offsetWidth;
        const left = px + 14 + w > root.width ? Math.max(0, px - 14 - w) : px + 14;
        this.tip.style.left = `${left}px`;
        this.tip.style.top = `${canvas.top - root.top + y + 14}px`;
    }

    hideTip() {
        this.tip.hidden = true;
    }

    /**
     * The theme's colours as the canvas needs them: each --cl-* variable is resolved (light-dark() included) by
     * reading it back as the computed colour of a hidden probe element.
     */
    readColours() {
        const probe = el('span', {'aria-hidden': 'true'});
        probe.style.display = 'none';
        this.root.append(probe);
        const v = name => {
            probe.style.color = `var(${name})`;
            return getComputedStyle(probe).color;
        };
        const series = [];
        for (let i = 1; i <= COLOURS; i++) {
            series.push(v(`--cl-series-${i}`));
        }
        const colours = {
            fg: v('--cl-chart-fg'),
            muted: v('--cl-chart-muted'),
            grid: v('--cl-chart-grid'),
            minor: v('--cl-chart-grid-minor'),
            surface: v('--cl-chart-surface'),
            series,
            font: getComputedStyle(this.root).fontFamily || 'sans-serif',
        };
        probe.remove();
        return colours;
    }

    draw() {
        this.colours ??= this.readColours();
        const c = this.colours;
        this.width = this.measureWidth();
        const height = this.layout.height;
        const ratio = window.devicePixelRatio || 1;
        this.canvas.width = Math.round(this.width * ratio);
        this.canvas.height = Math.round(height * ratio);
        this.canvas.style.width = `${this.width}px`;
        this.canvas.style.height = `${height}px`;
        const ctx = this.canvas.getContext('2d');
        ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
        ctx.clearRect(0, 0, this.width, height);
        const gutter = this.gutter();
        const hatch = hatchPattern(ctx, c.surface);

        // time axis and grid
        const {ticks} = timeTicks(Math.max(0, this.view.start), this.view.end, Math.max(2, Math.floor((this.width
            - gutter) / 110)));
        ctx.font = `11px ${c.font}`;
        ctx.textBaseline = 'middle';
        ctx.textAlign = 'center';
        for (const t of ticks) {
            const x = Math.round(this.xOf(t)) + 0.5;
            ctx.fillStyle = c.minor;
            ctx.fillRect(x, AXIS_HEIGHT, 1, height - AXIS_HEIGHT);
            ctx.fillStyle = c.muted;
            ctx.fillRect(x, AXIS_HEIGHT - 5, 1, 5);
            ctx.fillText(formatDuration(t), x, AXIS_HEIGHT / 2 - 1);
        }
        ctx.fillStyle = c.grid;
        ctx.fillRect(gutter, AXIS_HEIGHT - 1, this.width - gutter, 1);

        // lanes
        ctx.save();
        ctx.beginPath();
        ctx.rect(gutter, AXIS_HEIGHT, this.width - gutter, height - AXIS_HEIGHT);
        ctx.clip();
        for (const {row, y} of this.layout.rows) {
            let lastX = -Infinity;
            for (let i = firstEndingAfter(row, this.view.start); i < row.length; i++) {
                const s = row[i];
                if (s.ts > this.view.end) {
                    break;
                }
                const x0 = this.xOf(s.ts);
                const x1 = this.xOf(s.ts + s.dur);
                if (x1 - x0 < 1 && x1 < lastX + 1) {
                    continue; // sub-pixel span on a pixel already drawn
                }
                const left = Math.max(gutter - 2, x0);
                const full = Math.min(this.width + 2, x1) - left;
                const w = full > 3 ? full - 1 : Math.max(1, full); // a 1 px gap shows where back-to-back spans meet
                const fill = c.series[s.colour];
                ctx.fillStyle = fill;
                ctx.globalAlpha = s.waiting ? 0.55 : 1;
                ctx.fillRect(left, y + 1, w, ROW_HEIGHT - 3);
                ctx.globalAlpha = 1;
                if (s.waiting && w >= 4 && hatch) {
                    ctx.fillStyle = hatch;
                    ctx.fillRect(left, y + 1, w, ROW_HEIGHT - 3);
                }
                if (w > 36) {
                    ctx.save();
                    ctx.beginPath();
                    ctx.rect(left + 3, y, w - 6, ROW_HEIGHT);
                    ctx.clip();
                    ctx.fillStyle = s.waiting ? c.fg : readableOn(fill);
                    ctx.textAlign = 'left';
                    ctx.fillText(s.name, Math.max(left, gutter) + 4, y + ROW_HEIGHT / 2 - 0.5);
                    ctx.restore();
                }
                lastX = Math.max(lastX, left + w);
            }
        }
        for (const l of this.layout.lanes) {
            if (!l.strip) {
                continue;
            }
            ctx.fillStyle = c.fg;
            for (const i of l.lane.instants) {
                if (i.ts < this.view.start || i.ts > this.view.end) {
                    continue;
                }
                const x = this.xOf(i.ts);
                ctx.beginPath();
                ctx.moveTo(x - 3.5, l.top);
                ctx.lineTo(x + 3.5, l.top);
                ctx.lineTo(x, l.top + l.strip - 1);
                ctx.closePath();
                ctx.fill();
            }
        }
        if (this.selected) {
            const s = this.selected.span;
            const x0 = this.xOf(s.ts);
            ctx.strokeStyle = c.fg;
            ctx.lineWidth = 2;
            ctx.strokeRect(x0 - 1, this.selected.y, Math.max(3, this.xOf(s.ts + s.dur) - x0 + 2), ROW_HEIGHT - 1);
        }
        ctx.restore();

        // gutter (the spans above are clipped out of it): group headers and lane labels
        ctx.textAlign = 'left';
        for (const g of this.layout.groups) {
            ctx.fillStyle = c.grid;
            ctx.fillRect(0, g.y + GROUP_HEIGHT - 2, this.width, 1);
            ctx.fillStyle = c.fg;
            ctx.font = `600 11.5px ${c.font}`;
            ctx.fillText(fit(ctx, g.label, this.width - 12), 6, g.y + GROUP_HEIGHT / 2 - 1);
        }
        ctx.font = `11px ${c.font}`;
        for (const l of this.layout.lanes) {
            ctx.fillStyle = c.muted;
            const mid = l.top + Math.min(l.bottom - l.top, l.strip + ROW_HEIGHT) / 2 + 1;
            ctx.fillText(fit(ctx, l.lane.label, gutter - 14), l.lane.group ? 14 : 6, mid);
            ctx.fillStyle = c.minor;
            ctx.fillRect(gutter, l.bottom + LANE_GAP / 2, this.width - gutter, 1);
            ctx.fillStyle = c.grid; // the gutter's edge, beside lanes only, so group headers read across it
            ctx.fillRect(gutter - 1, l.top - LANE_GAP / 2, 1, l.bottom - l.top + LANE_GAP);
        }

        const shownEnd = formatDuration(Math.min(this.trace.duration, this.view.end));
        this.range.textContent = `showing ${formatDuration(Math.max(0, this.view.start))} – ${shownEnd} of `
            + formatDuration(this.trace.duration);
        this.drawSwatches(c);
    }

    drawSwatches(c) {
        for (const {swatch, kind} of this.swatches) {
            const ctx = swatch.getContext('2d');
            ctx.clearRect(0, 0, 22, 12);
            ctx.fillStyle = c.series[kind.colour];
            ctx.globalAlpha = kind.waiting ? 0.55 : 1;
            ctx.fillRect(0, 0, 22, 12);
            ctx.globalAlpha = 1;
            const hatch = kind.waiting ? hatchPattern(ctx, c.surface) : null;
            if (hatch) {
                ctx.fillStyle = hatch;
                ctx.fillRect(0, 0, 22, 12);
            }
        }
    }
}

/** Diagonal hatching in the surface colour, laid over waiting spans. */
function hatchPattern(ctx, colour) {
    const tile = document.createElement('canvas');
    tile.width = 6;
    tile.height = 6;
    const t = tile.getContext('2d');
    if (!t) {
        return null;
    }
    t.strokeStyle = colour;
    t.globalAlpha = 0.8;
    t.lineWidth = 1.5;
    t.beginPath();
    t.moveTo(-1, 1);
    t.lineTo(1, -1);
    t.moveTo(0, 6);
    t.lineTo(6, 0);
    t.moveTo(5, 7);
    t.lineTo(7, 5);
    t.stroke();
    return ctx.createPattern(tile, 'repeat');
}

/** Black or white text, whichever reads better on a fill given as a computed colour ("rgb(r, g, b)"). */
export function readableOn(fill) {
    const rgb = /^rgba?\((\d+(?:\.\d+)?)[,\s]+(\d+(?:\.\d+)?)[,\s]+(\d+(?:\.\d+)?)/.exec(String(fill).trim());
    if (!rgb) {
        return '#000';
    }
    const [r, g, b] = rgb.slice(1, 4).map(c => Number(c) / 255)
        .map(c => c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4);
    const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
    return luminance > 0.2 ? '#000' : '#fff';
}

/** `s` cut with an ellipsis to fit `width` px in the context's font. */
function fit(ctx, s, width) {
    if (ctx.measureText(s).width <= width) {
        return s;
    }
    let lo = 0;
    let hi = s.length;
    while (lo < hi) {
        const mid = (lo + hi + 1) >>> 1;
        if (ctx.measureText(s.slice(0, mid) + '…').width <= width) {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    return s.slice(0, lo) + '…';
}

