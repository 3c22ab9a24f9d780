// One experiment on a card page: what it measures, a form built from its declared parameters (number inputs with
// their bounds, selects for choices, a quick-run box), Run; while it runs a progress bar, its message and Cancel;
// the server's refusals (400 bad value, 409 already running, 429 too many runs) in words; then the record. Before
// any run it shows the latest stored record. The browser's own checks (min/max) only help the reader: the server
// checks every value again.
//
// A run outlives the page: its id is kept in sessionStorage, so coming back to the card follows it again.
//
// Hooks for tests: section.experiment[data-experiment=ID], inputs and selects [data-param=NAME],
// input[name=quick], button[data-action=run|cancel|reset], .run-status (progress, messages, errors: .error),
// .run-result > .record (li.claim[data-verdict], div.charts, div.timeline, table).

import { ApiError, cancelRun, getRun, startRun, watchRun } from './api.js';
import { formatSeconds, h } from './dom.js';
import { renderRecord } from './record.js';

const ERROR_LABELS = {
  0: 'No answer',
  400: 'Refused',
  404: 'Not found',
  409: 'Already running',
  429: 'Too many runs',
};

const runKey = (experiment) => `conclab-run:${experiment}`;

function remember(experiment, runId) {
  try {
    sessionStorage.setItem(runKey(experiment), runId);
  } catch {
    // storage disabled: the run is followed while the page stays open
  }
}

function forget(experiment) {
  try {
    sessionStorage.removeItem(runKey(experiment));
  } catch {
    // as above
  }
}

function remembered(experiment) {
  try {
    return sessionStorage.getItem(runKey(experiment));
  } catch {
    return null;
  }
}

function paramField(param, prefix) {
  const id = `${prefix}-p-${param.name}`;
  const hintId = `${id}-hint`;
  const choice = param.kind === 'choice';
  const input = choice
    ? h('select', { id, name: param.name, 'aria-describedby': hintId, dataset: { param: param.name } },
      (param.choices ?? []).map((c) => h('option', { value: c }, c)))
    : h('input', { id, name: param.name, type: 'number', inputmode: 'numeric', step: '1', required: true,
      min: param.min, max: param.max, 'aria-describedby': hintId, dataset: { param: param.name } });
  const bounds = choice ? `one of ${(param.choices ?? []).join(', ')}` : `${param.min} to ${param.max}`;
  const wrap = h('div', { class: 'param' },
    h('label', { for: id }, param.name),
    input,
    h('p', { id: hintId, class: 'hint' }, param.description, ' ',
      h('span', { class: 'bounds' }, `(${bounds}; default ${param.default}, quick ${param.quick})`)));
  const field = { param, input, wrap, edited: false };
  input.addEventListener('input', () => {
    field.edited = true;
    input.removeAttribute('aria-invalid');
  });
  return field;
}

/** The experiment's panel; its streams and timers stop when signal fires. */
export function renderExperiment(exp, signal) {
  const prefix = `exp-${exp.id}`;
  const fields = (exp.params ?? []).map((p) => paramField(p, prefix));
  const quick = h('input', { type: 'checkbox', name: 'quick', id: `${prefix}-quick`, checked: true });
  const runButton = h('button', { type: 'submit', class: 'primary', dataset: { action: 'run' } }, '▶ Run');
  const resetButton = h('button', { type: 'button', dataset: { action: 'reset' } }, 'Reset values');
  const cancelButton = h('button', { type: 'button', class: 'danger', dataset: { action: 'cancel' }, hidden: true },
    '■ Cancel');
  const progress = h('progress', { max: '1', value: '0', 'aria-label': `Progress of ${exp.id}` });
  const percent = h('span', { class: 'percent' });
  const message = h('span', { class: 'message' });
  const elapsed = h('span', { class: 'elapsed' });
  const progressBox = h('div', { class: 'progress', hidden: true }, progress,
    h('p', { class: 'progress-text' }, percent, ' ', message, ' ', elapsed), cancelButton);
  const status = h('div', { class: 'run-notice', role: 'status' });
  const resultBox = h('div', { class: 'run-result' });

  let recordScope = null;
  /** Shows a record in place of the one shown, stopping the old one's charts and timeline. */
  function showRecord(record, heading) {
    recordScope?.abort();
    recordScope = new AbortController();
    resultBox.replaceChildren(renderRecord(record, { heading, signal: recordScope.signal }));
  }
  signal.addEventListener('abort', () => recordScope?.abort());

  let runId = null;
  let stopWatching = () => {};
  let clock = 0;
  signal.addEventListener('abort', () => {
    stopWatching();
    clearInterval(clock);
  });

  const limit = h('span', { class: 'hint time-limit' });

  function setValues() {
    for (const f of fields) {
      if (!f.edited) {
        f.input.value = String(quick.checked ? f.param.quick : f.param.default);
      }
    }
    const seconds = quick.checked ? exp.quickTimeoutSeconds ?? exp.timeoutSeconds : exp.timeoutSeconds;
    limit.textContent = seconds ? `Time limit: ${formatSeconds(seconds)}.` : '';
  }

  function setRunning(running) {
    const hadFocus = progressBox.contains(document.activeElement);
    runButton.disabled = running;
    resetButton.disabled = running;
    progressBox.hidden = !running;
    cancelButton.hidden = !running;
    cancelButton.disabled = false;
    cancelButton.textContent = '■ Cancel';
    clearInterval(clock);
    if (running) {
      const started = Date.now();
      elapsed.textContent = '';
      clock = setInterval(() => {
        elapsed.textContent = `· ${formatSeconds((Date.now() - started) / 1000)}`;
      }, 1000);
    } else if (hadFocus) {
      runButton.focus(); // Cancel was focused and is gone: keep the keyboard in the panel
    }
  }

  function showError(error) {
    const label = error instanceof ApiError ? ERROR_LABELS[error.status] ?? `Error ${error.status}` : 'Error';
    status.replaceChildren(h('p', { class: 'error', role: 'alert' }, h('strong', {}, `${label}: `), error.message));
    const named = /parameter '?([A-Za-z0-9_-]+)/.exec(error.message ?? '');
    const field = named && fields.find((f) => f.param.name === named[1]);
    if (field && error.status === 400) {
      field.input.setAttribute('aria-invalid', 'true');
      field.input.focus();
    }
  }

  function follow(id, { focusCancel = false } = {}) {
    runId = id;
    remember(exp.id, id);
    setRunning(true);
    progress.value = 0;
    percent.textContent = '0 %';
    message.textContent = `run ${id} started`;
    status.replaceChildren();
    if (focusCancel) {
      cancelButton.focus(); // Run is disabled now: the keyboard goes on to Cancel
    }
    stopWatching = watchRun(id, {
      onProgress(p) {
        const fraction = Math.min(1, Math.max(0, Number(p.fraction) || 0));
        progress.value = fraction;
        percent.textContent = `${Math.round(fraction * 100)} %`;
        message.textContent = p.message ?? '';
      },
      onDone(record) {
        forget(exp.id);
        runId = null;
        setRunning(false);
        status.replaceChildren(h('p', { class: 'notice' },
          `Run ${id} ${String(record.status).toLowerCase().replace('_', ' ')}.`));
        showRecord(record, 'This run');
      },
      onLost(text) {
        forget(exp.id);
        runId = null;
        setRunning(false);
        showError(new Error(text));
      },
    });
  }

  async function run(event) {
    event.preventDefault();
    if (runId || !form.reportValidity()) {
      return;
    }
    const params = Object.fromEntries(fields.map((f) => [f.param.name, String(f.input.value).trim()]));
    runButton.disabled = true;
    status.replaceChildren(h('p', { class: 'notice' }, 'Starting…'));
    let started;
    try {
      started = await startRun(exp.id, params, quick.checked);
    } catch (e) {
      runButton.disabled = false;
      showError(e);
      return;
    }
    if (!signal.aborted) {
      follow(started.id, { focusCancel: true });
    }
  }

  async function cancel() {
    if (!runId) {
      return;
    }
    cancelButton.disabled = true;
    cancelButton.textContent = 'Cancelling…';
    try {
      await cancelRun(runId);
      message.textContent = 'cancelling: waiting for the run to stop';
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        message.textContent = 'the run had already ended';
      } else {
        cancelButton.disabled = false;
        cancelButton.textContent = '■ Cancel';
        showError(e);
      }
    }
  }

  quick.addEventListener('change', setValues);
  resetButton.addEventListener('click', () => {
    for (const f of fields) {
      f.edited = false;
      f.input.removeAttribute('aria-invalid');
    }
    setValues();
    status.replaceChildren();
  });
  cancelButton.addEventListener('click', cancel);

  const form = h('form', { class: 'run-form', onsubmit: run, 'aria-label': `Run ${exp.id}` },
    fields.length > 0 ? h('div', { class: 'params' }, fields.map((f) => f.wrap))
      : h('p', { class: 'hint' }, 'This experiment takes no parameters.'),
    h('div', { class: 'actions' },
      h('label', { class: 'quick', for: `${prefix}-quick` }, quick, ' Quick run (the smaller values the tests use)'),
      runButton, resetButton, limit));
  setValues();

  if (exp.latest) {
    showRecord(exp.latest, 'Latest result');
  } else {
    resultBox.replaceChildren(h('p', { class: 'never-run' },
      'Not measured on this machine yet: press Run to measure it here.'));
  }

  const claims = exp.claims ?? [];
  const section = h('section', { class: 'experiment', id: prefix, dataset: { experiment: exp.id },
    'aria-labelledby': `${prefix}-title` },
  h('header', { class: 'experiment-head' },
    h('h3', { id: `${prefix}-title`, tabindex: '-1' }, exp.title),
    h('code', { class: 'experiment-id' }, exp.id)),
  String(exp.description ?? '').split(/\n\s*\n/).filter((p) => p.trim())
    .map((p) => h('p', { class: 'description' }, p.trim())),
  claims.length > 0 ? h('details', { class: 'declared-claims' },
    h('summary', {}, `What it checks (${claims.length} ${claims.length === 1 ? 'claim' : 'claims'})`),
    h('ul', {}, claims.map((c) => h('li', {}, c.text, ' ', h('code', {}, c.id))))) : null,
  form, progressBox, status, resultBox);

  const earlier = remembered(exp.id);
  if (earlier) {
    getRun(earlier, signal).then((r) => {
      if (r.state === 'running' && !signal.aborted && !runId) {
        follow(r.id);
      } else {
        forget(exp.id);
      }
    }, () => forget(exp.id));
  }
  return section;
}
