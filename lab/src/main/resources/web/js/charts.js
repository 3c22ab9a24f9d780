/**
 * Charts of a run's series, drawn as hand-written SVG (no library, no build step, works offline).
 *
 * Input: RunRecord.result.series exactly as `./conclab run ID --json` prints it, a list of
 * {chart, name, xLabel, yLabel, points: [{x, y}]}. Series with the same `chart` share one figure, in the order the
 * charts first appear.
 *
 * - Numeric x: a line chart with axes, ticks, axis labels and a legend. Each series has its own colour, dash
 *   pattern and marker shape. A series whose name says it is a reference ("ideal", "Amdahl's law", "one
 *   interval", "predicted", "expected", "linear") is drawn as a thin dashed line with no markers and tagged
 *   "reference" in the legend.
 * - Categorical x: the engine codes categories as numbers and names them in the x label, e.g.
 *   "variant (1 sequential, 2 interleaved, 3 parallel)" or "model (table row)". Such charts are drawn as grouped
 *   horizontal bars, one group per category, one bar per series. "(table row)" categories are named from the
 *   record's tables when `options.tables` (RunRecord.result.tables) is given; a category with no name is never
 *   merged with another series' category of the same number.
 * - An axis whose positive values span more than 100× is drawn on a log scale, and its label says so.
 * - Hover (or focus the chart and use the arrow keys) shows a tooltip with the exact values (6 significant digits);
 *   every figure also has a "Data" table with the same values.
 *
 * Every string from the data reaches the DOM through textContent or setAttribute, never innerHTML.
 * Thread model: plain browser main-thread code. Figures re-draw when their width changes, and stop listening when
 * the element is emptied by a later renderCharts call or the returned handle's destroy().
 */

const SVG_NS = 'http://www.w3.org/2000/svg';
const SERIES_COLOURS = 8;
const DASHES = ['', '7 4', '2 3', '10 3 2 3', '4 2', '12 4', '1 2', '6 2 2 2'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'cross', 'triangle-down', 'plus', 'star'];
const BAR_PATTERNS = ['solid', 'hatch', 'dots', 'cross-hatch', 'hatch-back', 'grid', 'solid', 'hatch'];
/** Bar charts' geometry in px: each category is a label line over its bars; the value axis is at the bottom. */
const BAR_LAYOUT = {
    barHeight: 14, barGap: 3, labelHeight: 18, groupGap: 12, top: 6, left: 8, right: 64, axisHeight: 40,
};
/** The lines drawn over a bar's colour, per pattern, in a 6 × 6 tile ('solid' has none, 'dots' is a circle). */
const PATTERN_INK = {
    'hatch': 'M-1,1L1,-1M0,6L6,0M5,7L7,5',
    'hatch-back': 'M-1,5L1,7M0,0L6,6M5,-1L7,1',
    'cross-hatch': 'M0,6L6,0M0,0L6,6',
    'grid': 'M3,0L3,6M0,3L6,3',
};
const REFERENCE_NAME = /\b(ideal|law|predicted|expected|linear|one interval)\b/i;
const LOG_SPAN = 100;
const NUMBER_6 = new Intl.NumberFormat('en', {maximumSignificantDigits: 6});
const NUMBER_4 = new Intl.NumberFormat('en', {maximumSignificantDigits: 4});

const disposers = new WeakMap();
let nextId = 0;

/**
 * Draws one figure per chart of `series` into `element`, replacing what it held.
 *
 * @param {Element} element the slot (emptied first)
 * @param {Array} series RunRecord.result.series
 * @param {{tables?: Array}} [options] `tables`: RunRecord.result.tables, used to name "(table row)" categories
 * @returns {{charts: number, destroy: function}} how many figures were drawn; destroy() stops their listeners
 */
export function renderCharts(element, series, options = {}) {
    disposers.get(element)?.();
    element.replaceChildren();
    const groups = groupByChart(series);
    if (groups.length === 0) {
        return {charts: 0, destroy() {}};
    }
    ensureStylesheet();
    element.classList.add('cl-charts');
    const figures = groups.map(group => new Figure(buildModel(group, options.tables ?? [])));
    element.append(...figures.map(f => f.root));
    figures.forEach(f => f.draw());
    // Resize callbacks come at most once a frame; a re-draw keeps the figure's width, so it cannot loop.
    const observer = typeof ResizeObserver === 'function' ? new ResizeObserver(() => {
        if (!element.isConnected) {
            destroy();
            return;
        }
        figures.forEach(f => f.drawIfResized());
    }) : null;
    figures.forEach(f => observer?.observe(f.root));
    function destroy() {
        observer?.disconnect();
        disposers.delete(element);
    }
    disposers.set(element, destroy);
    return {charts: figures.length, destroy};
}

// ---------------------------------------------------------------------------------------------------------------
// Pure functions (exported for web/dev/charts-selftest.html)
// ---------------------------------------------------------------------------------------------------------------

/** The usable series (a name and at least one finite point) grouped by `chart`, in first-seen order. */
export function groupByChart(series) {
    const groups = new Map();
    for (const s of Array.isArray(series) ? series : []) {
        if (!s || typeof s !== 'object' || !Array.isArray(s.points)) {
            continue;
        }
        const points = s.points
            .filter(p => p && Number.isFinite(Number(p.x)) && Number.isFinite(Number(p.y)))
            .map(p => ({x: Number(p.x), y: Number(p.y)}));
        if (points.length === 0) {
            continue;
        }
        const chart = String(s.chart ?? '');
        if (!groups.has(chart)) {
            groups.set(chart, []);
        }
        groups.get(chart).push({
            chart,
            name: String(s.name ?? ''),
            xLabel: String(s.xLabel ?? ''),
            yLabel: String(s.yLabel ?? ''),
            points,
        });
    }
    return [...groups.entries()].map(([chart, list]) => ({chart, series: list}));
}

/** True when a series' name says it is a reference line (an ideal, a law, a prediction), not a measurement. */
export function isReference(name) {
    return REFERENCE_NAME.test(String(name));
}

/**
 * How an x label names categories, or null when x is numeric.
 * "variant (1 sequential, 2 interleaved)" → {kind: 'named', title: 'variant', names: Map(1 → 'sequential', ...)};
 * "variant (0 = baseline, 1 = on the loop, then the cures in table order)" → the two named ones (the rest unnamed);
 * "model (table row)" → {kind: 'table-row', title: 'model'}. One enumerated item ("ms (0 = none)") is not a list.
 */
export function parseCategories(xLabel) {
    const label = String(xLabel ?? '');
    const open = label.indexOf('(');
    if (open < 0 || !label.trimEnd().endsWith(')')) {
        return null;
    }
    const title = label.slice(0, open).trim().replace(/[,;:]$/, '').trim();
    const inner = label.slice(open + 1, label.trimEnd().length - 1).trim();
    if (/^table rows?$/i.test(inner)) {
        return {kind: 'table-row', title, names: new Map()};
    }
    const names = new Map();
    let last = null;
    for (const part of inner.split(/,\s*/)) {
        const item = /^(-?\d+)\s*(?:=\s*)?(\S.*)$/.exec(part);
        if (item) {
            last = Number(item[1]);
            names.set(last, item[2].trim());
        } else if (last !== null && !/^(then|and|etc|others?)\b/i.test(part)) {
            names.set(last, names.get(last) + ', ' + part);
        } else {
            break;
        }
    }
    return names.size >= 2 ? {kind: 'named', title, names} : null;
}

/** True when the positive values span more than 100× (and none is ≤ 0), so a log scale reads better. */
export function wantsLog(values) {
    const finite = values.filter(Number.isFinite);
    if (finite.length < 2 || finite.some(v => v <= 0)) {
        return false;
    }
    return Math.max(...finite) / Math.min(...finite) > LOG_SPAN;
}

/**
 * Round ticks covering [min, max]: about `count` of them at a step of 1, 2 or 5 × 10^k (at least 1 when `integer`).
 * @returns {{min: number, max: number, step: number, ticks: number[]}} the widened domain and its ticks
 */
export function niceTicks(min, max, count = 5, integer = false) {
    if (!Number.isFinite(min) || !Number.isFinite(max)) {
        throw new RangeError(`niceTicks needs finite bounds, got ${min}..${max}`);
    }
    if (min > max) {
        [min, max] = [max, min];
    }
    if (min === max) {
        const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
        min -= pad;
        max += pad;
    }
    const step = Math.max(integer ? 1 : 0, niceStep((max - min) / Math.max(1, count - 1)));
    const lo = Math.floor(min / step + 1e-9) * step;
    const hi = Math.ceil(max / step - 1e-9) * step;
    const decimals = Math.max(0, -Math.floor(Math.log10(step)) + 1);
    const ticks = [];
    for (let v = lo; v <= hi + step / 2; v += step) {
        ticks.push(Number(v.toFixed(decimals)));
    }
    return {min: ticks[0], max: ticks[ticks.length - 1], step, ticks};
}

function niceStep(raw) {
    const power = Math.pow(10, Math.floor(Math.log10(raw)));
    const fraction = raw / power;
    const nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
    return nice * power;
}

/**
 * Log-scale ticks for positive [min, max]: the powers of ten around them (labelled), and 2× and 5× in between
 * (labelled too when the range spans at most two decades).
 * @returns {{min: number, max: number, ticks: number[], minor: number[]}}
 */
export function logTicks(min, max) {
    if (!(min > 0) || !(max > 0)) {
        throw new RangeError(`logTicks needs positive bounds, got ${min}..${max}`);
    }
    let lo = Math.floor(Math.log10(Math.min(min, max)) + 1e-9);
    let hi = Math.ceil(Math.log10(Math.max(min, max)) - 1e-9);
    if (hi === lo) {
        hi += 1;
    }
    const ticks = [];
    const minor = [];
    for (let k = lo; k <= hi; k++) {
        const p = Number(Math.pow(10, k).toPrecision(12));
        ticks.push(p);
        if (k < hi) {
            for (const m of [2, 5]) {
                (hi - lo <= 2 ? ticks : minor).push(Number((m * p).toPrecision(12)));
            }
        }
    }
    ticks.sort((a, b) => a - b);
    return {min: Math.pow(10, lo), max: Math.pow(10, hi), ticks, minor};
}

/** A scale from a domain to a pixel range: linear, or log10 when `log`; `scale.invert(px)` maps back. */
export function makeScale(domain, range, log = false) {
    const [d0, d1] = log ? domain.map(Math.log10) : domain;
    const [r0, r1] = range;
    const k = d1 === d0 ? 0 : (r1 - r0) / (d1 - d0);
    const scale = v => r0 + ((log ? Math.log10(v) : v) - d0) * k;
    scale.invert = px => {
        const v = k === 0 ? d0 : d0 + (px - r0) / k;
        return log ? Math.pow(10, v) : v;
    };
    return scale;
}

/** A number for a tick or a bar label: up to 4 significant digits, grouped thousands. */
export function formatNumber(v) {
    return NUMBER_4.format(v);
}

/** A number for a tooltip or the data table: up to 6 significant digits. */
export function formatExact(v) {
    return NUMBER_6.format(v);
}

/**
 * The drawable model of one chart: a line chart, or grouped bars when its x label names categories.
 * Bars: categories in first-seen order, each with one value per series that has it.
 */
export function buildModel(group, tables = []) {
    const first = group.series[0];
    const series = group.series.map((s, i) => ({...s, index: i, reference: isReference(s.name)}));
    const base = {title: group.chart, xLabel: first.xLabel, yLabel: first.yLabel, series};
    const categories = parseCategories(first.xLabel);
    if (!categories) {
        const xs = series.flatMap(s => s.points.map(p => p.x));
        const ys = series.flatMap(s => s.points.map(p => p.y));
        return {...base, kind: 'line', xLog: wantsLog(xs), yLog: wantsLog(ys)};
    }
    const byKey = new Map();
    for (const s of series) {
        const rowNames = categories.kind === 'table-row' ? tableRowNames(categories.title, s.points, tables) : null;
        for (const p of s.points) {
            const name = rowNames ? rowNames.get(p.x) : categories.names.get(p.x);
            const key = name !== undefined ? 'name:' + name : `series:${s.index}:${p.x}`;
            const label = name ?? `${categories.title || 'item'} ${formatNumber(p.x)} (${s.name})`;
            if (!byKey.has(key)) {
                byKey.set(key, {key, label, values: []});
            }
            byKey.get(key).values.push({series: s.index, x: p.x, y: p.y});
        }
    }
    const ys = series.flatMap(s => s.points.map(p => p.y));
    return {
        ...base,
        kind: 'bars',
        categoryTitle: categories.title,
        categories: [...byKey.values()],
        yLog: wantsLog(ys),
    };
}

/**
 * Names for "(table row)" points: the rows of the one table whose first column is `title` and whose row count
 * equals the series' point count (first such table); a row's name is its first cell, plus the second when that
 * column is "runtime" or "side" (JVM / CPython). Null when no table fits.
 */
export function tableRowNames(title, points, tables) {
    const wanted = String(title).toLowerCase();
    const table = (Array.isArray(tables) ? tables : []).find(t => Array.isArray(t?.columns)
        && Array.isArray(t.rows) && String(t.columns[0]).toLowerCase() === wanted && t.rows.length === points.length);
    if (!table) {
        return null;
    }
    const withSecond = /^(runtime|side)$/i.test(String(table.columns[1] ?? ''));
    const names = new Map();
    for (const p of points) {
        const row = table.rows[p.x - 1];
        if (Number.isInteger(p.x) && Array.isArray(row)) {
            names.set(p.x, withSecond ? `${row[0]} · ${row[1]}` : String(row[0]));
        }
    }
    return names;
}

// ---------------------------------------------------------------------------------------------------------------
// Drawing
// ---------------------------------------------------------------------------------------------------------------

/** One chart: figure, legend, the SVG (re-drawn at the figure's width), tooltip and data table. */
class Figure {
    constructor(model) {
        this.model = model;
        this.id = `cl-chart-${++nextId}`;
        this.width = -1;
        this.marks = [];
        this.active = -1;
        this.root = el('figure', {class: 'cl-chart'});
        const caption = el('figcaption', {class: 'cl-chart-title', id: this.id + '-title'}, model.title);
        this.plot = el('div', {class: 'cl-chart-plot'});
        this.tip = el('div', {class: 'cl-chart-tip', hidden: '', 'aria-live': 'polite'}); // read out on arrow keys
        this.root.append(caption, legend(model), this.plot, dataTable(model));
    }

    drawIfResized() {
        if (this.availableWidth() !== this.width) {
            this.draw();
        }
    }

    availableWidth() {
        const w = Math.floor(this.root.clientWidth || 0);
        return w > 0 ? w : 640;
    }

    draw() {
        this.width = this.availableWidth();
        const width = Math.max(320, this.width);
        const svg = svgEl('svg', {
            role: 'img',
            tabindex: '0',
            'aria-labelledby': this.id + '-title',
            'aria-describedby': this.id + '-desc',
            width,
        });
        const desc = svgEl('desc', {id: this.id + '-desc'});
        desc.textContent = describe(this.model);
        svg.append(desc);
        this.marks = [];
        this.active = -1;
        const height = this.model.kind === 'line' ? drawLines(svg, this.model, width, this.marks)
            : drawBars(svg, this.model, width, this.marks, this.id);
        svg.setAttribute('height', height);
        svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
        this.highlight = svgEl('circle', {class: 'cl-highlight', r: 7, visibility: 'hidden'});
        svg.append(this.highlight);
        this.plot.replaceChildren(svg, this.tip);
        this.tip.hidden = true;
        svg.addEventListener('pointermove', e => this.pointAt(svg, e));
        svg.addEventListener('pointerleave', () => this.hide());
        svg.addEventListener('blur', () => this.hide());
        svg.addEventListener('keydown', e => this.key(e));
    }

    pointAt(svg, event) {
        const box = svg.getBoundingClientRect();
        const x = event.clientX - box.left;
        const y = event.clientY - box.top;
        const hit = nearestMark(this.marks, x, y, 28);
        if (hit < 0) {
            this.hide();
        } else {
            this.show(hit);
        }
    }

    key(event) {
        if (this.marks.length === 0) {
            return;
        }
        const step = {ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1}[event.key];
        if (step) {
            event.preventDefault();
            const n = this.marks.length;
            this.show(this.active < 0 ? (step > 0 ? 0 : n - 1) : (this.active + step + n) % n);
        } else if (event.key === 'Home' || event.key === 'End') {
            event.preventDefault();
            this.show(event.key === 'Home' ? 0 : this.marks.length - 1);
        } else if (event.key === 'Escape' && !this.tip.hidden) {
            event.preventDefault(); // only when it closed something: the page may use Escape too
            this.hide();
        }
    }

    show(index) {
        const mark = this.marks[index];
        this.active = index;
        this.highlight.setAttribute('cx', mark.x);
        this.highlight.setAttribute('cy', mark.y);
        this.highlight.setAttribute('visibility', 'visible');
        // points of other series drawn on the same spot (e.g. JVM and CPython both at 100 ms) are named too
        const hidden = this.marks.filter(m => m !== mark && Math.abs(m.x - mark.x) < 4 && Math.abs(m.y - mark.y) < 4);
        fillTip(this.tip, mark.title, [...mark.lines, ...hidden.map(m => `${m.title} — ${m.lines.at(-1)}`)]);
        const svgWidth = Number(this.plot.firstChild.getAttribute('width'));
        const tipWidth = this.tip.offsetWidth;
        const left = mark.x + 12 + tipWidth > svgWidth ? Math.max(0, mark.x - 12 - tipWidth) : mark.x + 12;
        this.tip.style.left = `${left}px`;
        this.tip.style.top = `${Math.max(0, mark.y - this.tip.offsetHeight - 8)}px`;
    }

    hide() {
        this.active = -1;
        this.tip.hidden = true;
        this.highlight?.setAttribute('visibility', 'hidden');
    }
}

/** The index of the mark whose box holds (x, y), else of the nearest anchor within `radius` px, else -1. */
export function nearestMark(marks, x, y, radius) {
    let best = -1;
    let bestDistance = radius * radius;
    for (let i = 0; i < marks.length; i++) {
        const m = marks[i];
        if (m.box && x >= m.box.x0 && x <= m.box.x1 && y >= m.box.y0 && y <= m.box.y1) {
            return i;
        }
        const d = (m.x - x) ** 2 + (m.y - y) ** 2;
        if (d <= bestDistance) {
            bestDistance = d;
            best = i;
        }
    }
    return best;
}

function describe(model) {
    const names = model.series.map(s => s.name + (s.reference ? ' (reference)' : '')).join('; ');
    const kind = model.kind === 'line' ? 'Line chart' : 'Bar chart';
    const scale = model.yLog ? ', log scale' : '';
    return `${kind} of ${model.yLabel}${scale} by ${model.xLabel}. Series: ${names}. `
        + 'Focus the chart and use the arrow keys to read each value; the Data table below lists them all.';
}

function axisTitle(label, log) {
    return log ? `${label} (log scale)` : label;
}

function drawLines(svg, model, width, marks) {
    const height = width < 520 ? 250 : 300;
    const xs = model.series.flatMap(s => s.points.map(p => p.x));
    const ys = model.series.flatMap(s => s.points.map(p => p.y));
    const xAxis = model.xLog ? logTicks(Math.min(...xs), Math.max(...xs))
        : niceTicks(Math.min(...xs), Math.max(...xs), width < 520 ? 4 : 6, xs.every(Number.isInteger));
    const yMin = Math.min(...ys);
    const yAxis = model.yLog ? logTicks(yMin, Math.max(...ys))
        : niceTicks(yMin >= 0 ? 0 : yMin, Math.max(...ys), 5);
    const yTickWidth = Math.max(...yAxis.ticks.map(t => textWidth(formatNumber(t))));
    const left = yTickWidth + 30;
    // room for half of the last x tick's label
    const right = Math.max(14, Math.ceil(textWidth(formatNumber(xAxis.ticks.at(-1))) / 2) + 4);
    const top = 10;
    const bottom = 44;
    const x = makeScale([xAxis.min, xAxis.max], [left, width - right], model.xLog);
    const y = makeScale([yAxis.min, yAxis.max], [height - bottom, top], model.yLog);

    const grid = svgEl('g', {'aria-hidden': 'true'});
    for (const t of yAxis.minor ?? []) {
        grid.append(svgEl('line', {class: 'cl-grid-minor', x1: left, x2: width - right, y1: y(t), y2: y(t)}));
    }
    for (const t of xAxis.minor ?? []) {
        grid.append(svgEl('line', {class: 'cl-grid-minor', x1: x(t), x2: x(t), y1: top, y2: height - bottom}));
    }
    for (const t of yAxis.ticks) {
        grid.append(svgEl('line', {class: 'cl-grid', x1: left, x2: width - right, y1: y(t), y2: y(t)}));
    }
    svg.append(grid);

    const axes = svgEl('g', {class: 'cl-axis', 'aria-hidden': 'true'});
    axes.append(svgEl('line', {class: 'cl-axis-line', x1: left, x2: width - right, y1: height - bottom,
        y2: height - bottom}));
    axes.append(svgEl('line', {class: 'cl-axis-line', x1: left, x2: left, y1: top, y2: height - bottom}));
    for (const t of xAxis.ticks) {
        axes.append(svgEl('line', {class: 'cl-axis-line', x1: x(t), x2: x(t), y1: height - bottom,
            y2: height - bottom + 4}));
        axes.append(text(formatNumber(t), {x: x(t), y: height - bottom + 16, 'text-anchor': 'middle'}));
    }
    for (const t of yAxis.ticks) {
        axes.append(text(formatNumber(t), {x: left - 6, y: y(t) + 4, 'text-anchor': 'end'}));
    }
    axes.append(text(axisTitle(model.xLabel, model.xLog), {
        class: 'cl-axis-label', x: (left + width - right) / 2, y: height - 8, 'text-anchor': 'middle',
    }));
    axes.append(text(axisTitle(model.yLabel, model.yLog), {
        class: 'cl-axis-label', x: -(top + height - bottom) / 2, y: 12, 'text-anchor': 'middle',
        transform: 'rotate(-90)',
    }));
    svg.append(axes);

    const lines = svgEl('g');
    for (const s of model.series) {
        const points = [...s.points].sort((a, b) => a.x - b.x);
        const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join('');
        const path = svgEl('path', {d, fill: 'none'});
        applyLineStyle(path, s);
        lines.append(path);
        // a long series gets a marker on every k-th point only: enough to tell its shape, not a smear
        const every = Math.max(1, Math.ceil(points.length / 24));
        for (const [i, p] of points.entries()) {
            const px = x(p.x);
            const py = y(p.y);
            if ((!s.reference && (i % every === 0 || i === points.length - 1)) || points.length === 1) {
                lines.append(marker(s.index, px, py));
            }
            marks.push({
                x: px, y: py, title: s.name,
                lines: [`${model.xLabel}: ${formatExact(p.x)}`, `${model.yLabel}: ${formatExact(p.y)}`],
            });
        }
    }
    svg.append(lines);
    marks.sort((a, b) => a.x - b.x || a.y - b.y);
    return height;
}

function drawBars(svg, model, width, marks, id) {
    const defs = svgEl('defs');
    model.series.forEach(s => defs.append(barPattern(`${id}-p${s.index}`, s.index)));
    svg.append(defs);
    const {barHeight, barGap, labelHeight, groupGap, top, left, right, axisHeight} = BAR_LAYOUT;
    const ys = model.series.flatMap(s => s.points.map(p => p.y));
    const yAxis = model.yLog ? logTicks(Math.min(...ys), Math.max(...ys))
        : niceTicks(Math.min(0, ...ys), Math.max(0, ...ys), width < 520 ? 4 : 6);
    const v = makeScale([yAxis.min, yAxis.max], [left, width - right], model.yLog);
    const zero = model.yLog ? v(yAxis.min) : v(0);
    let plotHeight = top;
    for (const c of model.categories) {
        plotHeight += labelHeight + c.values.length * (barHeight + barGap) + groupGap;
    }
    const bottom = plotHeight;

    const grid = svgEl('g', {'aria-hidden': 'true'});
    for (const t of yAxis.minor ?? []) {
        grid.append(svgEl('line', {class: 'cl-grid-minor', x1: v(t), x2: v(t), y1: top, y2: bottom}));
    }
    for (const t of yAxis.ticks) {
        grid.append(svgEl('line', {class: 'cl-grid', x1: v(t), x2: v(t), y1: top, y2: bottom}));
    }
    svg.append(grid);

    const bars = svgEl('g');
    let cursor = top;
    for (const c of model.categories) {
        bars.append(text(c.label, {class: 'cl-cat-label', x: left, y: cursor + 13}));
        cursor += labelHeight;
        for (const value of c.values) {
            const s = model.series[value.series];
            const end = v(value.y);
            const x0 = Math.min(zero, end);
            const w = Math.max(1, Math.abs(end - zero));
            const rect = svgEl('rect', {x: x0, y: cursor, width: w, height: barHeight, rx: 2});
            rect.style.setProperty('fill', `url(#${id}-p${s.index})`);
            rect.style.setProperty('stroke', colour(s.index));
            bars.append(rect);
            bars.append(text(formatNumber(value.y), {class: 'cl-value', x: Math.max(zero, end) + 4,
                y: cursor + barHeight - 3}));
            marks.push({
                x: Math.max(zero, end), y: cursor + barHeight / 2, title: s.name,
                box: {x0: left, x1: width - right + 60, y0: cursor - barGap / 2, y1: cursor + barHeight + barGap / 2},
                lines: [c.label, `${model.yLabel}: ${formatExact(value.y)}`],
            });
            cursor += barHeight + barGap;
        }
        cursor += groupGap;
    }
    svg.append(bars);

    const axes = svgEl('g', {class: 'cl-axis', 'aria-hidden': 'true'});
    axes.append(svgEl('line', {class: 'cl-axis-line', x1: zero, x2: zero, y1: top, y2: bottom}));
    axes.append(svgEl('line', {class: 'cl-axis-line', x1: left, x2: width - right, y1: bottom, y2: bottom}));
    for (const t of yAxis.ticks) {
        axes.append(svgEl('line', {class: 'cl-axis-line', x1: v(t), x2: v(t), y1: bottom, y2: bottom + 4}));
        axes.append(text(formatNumber(t), {x: v(t), y: bottom + 16, 'text-anchor': 'middle'}));
    }
    axes.append(text(axisTitle(model.yLabel, model.yLog), {
        class: 'cl-axis-label', x: (left + width - right) / 2, y: bottom + 34, 'text-anchor': 'middle',
    }));
    svg.append(axes);
    return bottom + axisHeight;
}

function colour(index) {
    return `var(--cl-series-${(index % SERIES_COLOURS) + 1})`;
}

function applyLineStyle(path, s) {
    if (s.reference) {
        path.style.setProperty('stroke', 'var(--cl-chart-ref)');
        path.setAttribute('stroke-width', '1.5');
        path.setAttribute('stroke-dasharray', '6 4');
    } else {
        path.style.setProperty('stroke', colour(s.index));
        path.setAttribute('stroke-width', '2');
        const dash = DASHES[s.index % DASHES.length];
        if (dash) {
            path.setAttribute('stroke-dasharray', dash);
        }
    }
    path.setAttribute('stroke-linejoin', 'round');
}

/** A marker of the series' shape centred on (cx, cy). */
function marker(index, cx, cy, size = 4.5) {
    const shape = MARKERS[index % MARKERS.length];
    const r = size;
    let node;
    switch (shape) {
        case 'circle':
            node = svgEl('circle', {cx, cy, r});
            break;
        case 'square':
            node = svgEl('rect', {x: cx - r * 0.85, y: cy - r * 0.85, width: r * 1.7, height: r * 1.7});
            break;
        case 'diamond':
            node = svgEl('path', {d: `M${cx},${cy - r * 1.2}L${cx + r * 1.2},${cy}L${cx},${cy + r * 1.2}`
                    + `L${cx - r * 1.2},${cy}Z`});
            break;
        case 'triangle':
            node = svgEl('path', {d: `M${cx},${cy - r * 1.2}L${cx + r * 1.1},${cy + r * 0.8}L${cx - r * 1.1},`
                    + `${cy + r * 0.8}Z`});
            break;
        case 'triangle-down':
            node = svgEl('path', {d: `M${cx},${cy + r * 1.2}L${cx + r * 1.1},${cy - r * 0.8}L${cx - r * 1.1},`
                    + `${cy - r * 0.8}Z`});
            break;
        case 'cross':
            node = svgEl('path', {d: `M${cx - r},${cy - r}L${cx + r},${cy + r}M${cx - r},${cy + r}L${cx + r},`
                    + `${cy - r}`});
            node.setAttribute('stroke-width', '2.2');
            node.style.setProperty('stroke', colour(index));
            return node;
        case 'plus':
            node = svgEl('path', {d: `M${cx - r * 1.2},${cy}L${cx + r * 1.2},${cy}M${cx},${cy - r * 1.2}L${cx},`
                    + `${cy + r * 1.2}`});
            node.setAttribute('stroke-width', '2.2');
            node.style.setProperty('stroke', colour(index));
            return node;
        default: {
            const points = [];
            for (let i = 0; i < 10; i++) {
                const a = -Math.PI / 2 + i * Math.PI / 5;
                const rr = i % 2 ? r * 0.55 : r * 1.3;
                points.push(`${(cx + rr * Math.cos(a)).toFixed(1)},${(cy + rr * Math.sin(a)).toFixed(1)}`);
            }
            node = svgEl('polygon', {points: points.join(' ')});
        }
    }
    node.style.setProperty('fill', colour(index));
    node.style.setProperty('stroke', 'var(--cl-chart-surface)');
    node.setAttribute('stroke-width', '1');
    return node;
}

/** The fill pattern of a series' bars: its colour, with hatching / dots that tell series apart without colour. */
function barPattern(patternId, index) {
    const kind = BAR_PATTERNS[index % BAR_PATTERNS.length];
    const pattern = svgEl('pattern', {id: patternId, patternUnits: 'userSpaceOnUse', width: 6, height: 6});
    const background = svgEl('rect', {width: 6, height: 6});
    background.style.setProperty('fill', colour(index));
    pattern.append(background);
    if (kind === 'dots') {
        const dot = svgEl('circle', {cx: 3, cy: 3, r: 1.3});
        dot.style.setProperty('fill', 'var(--cl-chart-surface)');
        dot.style.setProperty('fill-opacity', '0.8');
        pattern.append(dot);
    } else if (PATTERN_INK[kind]) {
        const ink = svgEl('path', {d: PATTERN_INK[kind], 'stroke-width': 1.4});
        ink.style.setProperty('stroke', 'var(--cl-chart-surface)');
        ink.style.setProperty('stroke-opacity', '0.75');
        pattern.append(ink);
    }
    return pattern;
}

function legend(model) {
    const list = el('ul', {class: 'cl-chart-legend'});
    const swatchId = `cl-swatch-${++nextId}`;
    for (const s of model.series) {
        const swatch = svgEl('svg', {width: 30, height: 14, 'aria-hidden': 'true'});
        if (model.kind === 'bars') {
            const defs = svgEl('defs');
            defs.append(barPattern(`${swatchId}-${s.index}`, s.index));
            const rect = svgEl('rect', {x: 2, y: 1, width: 26, height: 12, rx: 2});
            rect.style.setProperty('fill', `url(#${swatchId}-${s.index})`);
            rect.style.setProperty('stroke', colour(s.index));
            swatch.append(defs, rect);
        } else {
            const line = svgEl('path', {d: 'M1,7L29,7'});
            applyLineStyle(line, s);
            swatch.append(line);
            if (!s.reference) {
                swatch.append(marker(s.index, 15, 7, 4));
            }
        }
        list.append(legendItem(swatch, s.name, s.reference ? '(reference)' : ''));
    }
    return list;
}

function dataTable(model) {
    const rows = [];
    if (model.kind === 'line') {
        for (const s of model.series) {
            for (const p of s.points) {
                rows.push([[s.name], [formatExact(p.x), true], [formatExact(p.y), true]]);
            }
        }
    } else {
        for (const c of model.categories) {
            for (const value of c.values) {
                rows.push([[c.label], [model.series[value.series].name], [formatExact(value.y), true]]);
            }
        }
    }
    const columns = model.kind === 'line' ? ['series', model.xLabel, model.yLabel]
        : [model.categoryTitle || 'category', 'series', model.yLabel];
    return detailsTable('cl-chart-data', 'Data', columns, rows);
}

/**
 * A collapsed <details> holding a table: `columns` are header texts, each row a list of [text, numeric?] cells
 * (numeric cells align right). Shared with timeline.js.
 */
export function detailsTable(className, title, columns, rows) {
    const details = el('details', {class: className});
    const head = el('tr');
    for (const c of columns) {
        head.append(el('th', {scope: 'col'}, c));
    }
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    for (const cells of rows) {
        const tr = el('tr');
        for (const [value, numeric] of cells) {
            tr.append(el('td', numeric ? {class: 'cl-num'} : {}, value));
        }
        tbody.append(tr);
    }
    const table = el('table');
    table.append(thead, tbody);
    const wrap = el('div', {class: 'cl-table-wrap'});
    wrap.append(table);
    details.append(el('summary', {}, title), wrap);
    return details;
}

/**
 * Fills a tooltip element with a bold title and one line per entry of `lines` (all as text) and shows it.
 * Shared with timeline.js.
 */
export function fillTip(tip, title, lines) {
    tip.replaceChildren(el('strong', {}, title), ...lines.map(line => el('div', {}, line)));
    tip.hidden = false;
}

function text(content, attributes) {
    const node = svgEl('text', attributes);
    node.textContent = content;
    return node;
}

let measureContext = null;

/** The width of `s` in the charts' 12 px font (measured once per string with a canvas, estimated without one). */
function textWidth(s) {
    if (measureContext === null) {
        measureContext = document.createElement('canvas').getContext('2d') ?? false;
        if (measureContext) {
            measureContext.font = `12px ${getComputedStyle(document.body).fontFamily || 'sans-serif'}`;
        }
    }
    return measureContext ? Math.ceil(measureContext.measureText(s).width) : s.length * 7;
}

/** A legend entry: the swatch, the name, and a muted tag (e.g. "(reference)") when given. Shared with timeline.js. */
export function legendItem(swatch, name, tag = '') {
    const item = el('li');
    item.append(swatch, el('span', {}, name));
    if (tag) {
        item.append(el('span', {class: 'cl-ref-tag'}, tag));
    }
    return item;
}

/**
 * An HTML element with string attributes and, when given, text content (set as attributes and textContent, never
 * parsed as HTML). Shared with timeline.js.
 */
export function el(name, attributes = {}, text = null) {
    const node = document.createElement(name);
    for (const [k, v] of Object.entries(attributes)) {
        node.setAttribute(k, v);
    }
    if (text !== null) {
        node.textContent = text;
    }
    return node;
}

function svgEl(name, attributes = {}) {
    const node = document.createElementNS(SVG_NS, name);
    for (const [k, v] of Object.entries(attributes)) {
        node.setAttribute(k, String(v));
    }
    return node;
}

/**
 * Adds css/charts.css (beside this module's folder) to the document once, so the modules work on any page.
 * @returns {Promise<void>} settles when the stylesheet has loaded (or failed to); the canvas re-reads its colours then
 */
export function ensureStylesheet() {
    const href = new URL('../css/charts.css', import.meta.url).href;
    let link = [...document.querySelectorAll('link[rel="stylesheet"]')].find(l => l.href === href);
    if (!link) {
        link = document.createElement('link');
        link.rel = 'stylesheet';
        link.href = href;
        document.head.append(link);
    } else if (link.sheet) {
        return Promise.resolve();
    }
    return new Promise(resolve => {
        link.addEventListener('load', () => resolve(), {once: true});
        link.addEventListener('error', () => resolve(), {once: true});
    });
}
