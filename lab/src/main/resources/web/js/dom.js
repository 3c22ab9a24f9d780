// Building the DOM without innerHTML: h() makes an element whose text always goes in as text nodes, so no datum
// from the server can become markup. The only innerHTML in the lab is the server's rendered (escaped) Markdown.

/**
 * h('a', {class: 'x', href: '#/', dataset: {id: 'basics-04'}, onclick: fn}, 'text', child, [more], null)
 * Attributes: `class`, `dataset`, `on<event>` handlers, booleans (true sets, false/null/undefined omits), any other
 * as a string. Children: strings and numbers become text nodes, nodes are appended, arrays are flattened,
 * null/undefined/false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) {
      continue;
    }
    if (key === 'class') {
      el.className = value;
    } else if (key === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) {
      continue;
    }
    if (Array.isArray(child)) {
      append(el, child);
    } else if (child instanceof Node) {
      el.append(child);
    } else {
      el.append(document.createTextNode(String(child)));
    }
  }
}

/** Plain text with every (case-insensitive) occurrence of the words wrapped in <mark>, as DOM nodes. */
export function marked(text, words) {
  const terms = words.filter((w) => w.length > 0).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  if (terms.length === 0) {
    return [text];
  }
  const pattern = new RegExp(`(${terms.join('|')})`, 'gi');
  return String(text).split(pattern).map((part, i) => (i % 2 === 1 ? h('mark', {}, part) : part));
}

/** A number as a table shows it: integers grouped, others with about three significant digits. */
export function formatNumber(value) {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    return String(value);
  }
  if (Number.isInteger(value)) {
    return value.toLocaleString('en');
  }
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return value.toLocaleString('en', { maximumFractionDigits: abs >= 1 ? digits : undefined,
    maximumSignificantDigits: abs >= 1 ? undefined : digits });
}

/** Seconds as "850 ms", "12.0 s", "3 min 05 s" or "10 min". */
export function formatSeconds(seconds) {
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 120) {
    return `${seconds.toFixed(1)} s`;
  }
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  return rest === 0 ? `${minutes} min` : `${minutes} min ${String(rest).padStart(2, '0')} s`;
}

/** An ISO instant as local date and time, e.g. "27 Nov 2026, 10:28". */
export function formatInstant(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) {
    return String(iso);
  }
  return date.toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric',
    hour: '2-digit', minute: '2-digit' });
}

/** How long ago an ISO instant was, e.g. "3 min ago", "2 h ago", "4 days ago". */
export function ago(iso, now = Date.now()) {
  const seconds = (now - new Date(iso).getTime()) / 1000;
  if (!Number.isFinite(seconds)) {
    return '';
  }
  if (seconds < 60) {
    return 'just now';
  }
  const [value, unit] = seconds < 3600 ? [seconds / 60, 'min'] : seconds < 86400 ? [seconds / 3600, 'h']
    : [seconds / 86400, 'day'];
  const n = Math.floor(value);
  return `${n} ${unit}${unit === 'day' && n !== 1 ? 's' : ''} ago`;
}

/** The machine a record was measured on, in the CLI's words (MachineFacts.summary()). */
export function machineSummary(machine) {
  if (!machine) {
    return 'an unknown machine';
  }
  const gib = (machine.memoryBytes / 1024 ** 3).toFixed(1);
  return `${machine.cpuModel} · ${machine.cores} cores · ${gib} GiB · JDK ${machine.jdk} · ${machine.os}`
    + (machine.python ? ` · CPython ${machine.python}` : '');
}
