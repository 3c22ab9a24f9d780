// The lab's JSON API as the pages use it: one function per endpoint of the contract (fetch), and watchRun for a
// run's server-sent events. Every failure becomes an ApiError carrying the server's one-line message.
//
// Dev switch: open the page with ?fixtures=1 (e.g. http://127.0.0.1:18082/?fixtures=1#/card/basics-04 under
// `python3 -m http.server 18082 -d lab/src/main/resources/web`) and every call is answered from
// dev/fixtures/*.json by dev/fixtures.js instead of /api, runs included (simulated progress, cancel, the
// 400/409/429 answers). Nothing else changes, so the pages can be built and screenshot without the server; the
// browser tests use the real server and never set the switch.

import { ApiError } from './errors.js';

export { ApiError };

/** True when the page was opened with ?fixtures=1 (see above). */
export const FIXTURES = new URLSearchParams(location.search).get('fixtures') === '1';

let fixtureModule = null;

/** The fixture stand-in, loaded on first use (never in normal use). */
function fixtures() {
  fixtureModule ??= import('../dev/fixtures.js');
  return fixtureModule;
}

/** One path segment, encoded, so an id can never change the path it is put into. */
const seg = (value) => encodeURIComponent(String(value));

async function request(method, path, { body, signal } = {}) {
  if (FIXTURES) {
    return (await fixtures()).request(method, path, body);
  }
  let response;
  try {
    response = await fetch(path, {
      method,
      signal,
      headers: body === undefined ? { Accept: 'application/json' }
        : { Accept: 'application/json', 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e.name === 'AbortError') {
      throw e;
    }
    throw new ApiError(0, 'The lab server does not answer. Is ./conclab still running?');
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const message = data && typeof data.error === 'string' ? data.error
      : `${method} ${path} answered ${response.status} ${response.statusText}`.trim();
    throw new ApiError(response.status, message);
  }
  if (data === undefined) {
    throw new ApiError(response.status, `${method} ${path} did not answer JSON`);
  }
  return data;
}

/** GET /api/catalog: the sections, their counts and every card's question, status, experiments and CPython flag. */
export function getCatalog(signal) {
  return request('GET', '/api/catalog', { signal });
}

/**
 * GET /api/search: cards whose question or answer holds the words of q; status ('answered'|'open') and python
 * (true|false) filter when given.
 */
export function search({ q, status, python }, signal) {
  const query = new URLSearchParams({ q });
  if (status) {
    query.set('status', status);
  }
  if (python !== undefined && python !== null) {
    query.set('python', String(python));
  }
  return request('GET', `/api/search?${query}`, { signal });
}

/** GET /api/cards/{id}: the question, the rendered answer sections, related ids and the experiment views. */
export function getCard(id, signal) {
  return request('GET', `/api/cards/${seg(id)}`, { signal });
}

/** GET /api/experiments/{id}: one experiment view (params with bounds, claims, cards, latest record). */
export function getExperiment(id, signal) {
  return request('GET', `/api/experiments/${seg(id)}`, { signal });
}

/** GET /api/systems: the systems and whether their page exists yet. */
export function getSystems(signal) {
  return request('GET', '/api/systems', { signal });
}

/** GET /api/systems/jobs/queues: what `jobs inspect` shows ({broker, stats, deadLetters, hint?}); read only. */
export function getJobsQueues(signal) {
  return request('GET', '/api/systems/jobs/queues', { signal });
}

/** GET /api/systems/jobs/dags: the DAGs with their newest runs ({store, dags, hint?}); read only. */
export function getJobsDags(signal) {
  return request('GET', '/api/systems/jobs/dags', { signal });
}

/** GET /api/systems/jobs/trace?run=ID: the run's Gantt as Chrome Trace Event JSON ({traceEvents}); read only. */
export function getJobsTrace(runId, signal) {
  return request('GET', `/api/systems/jobs/trace?${new URLSearchParams({ run: runId })}`, { signal });
}

/**
 * GET /api/systems/chat/server: the chat server the lab runs, {running: false, lastStop?} or {running: true, model,
 * port, url (its browser client), websocket, startedAt, stats}.
 */
export function getChatServer(signal) {
  return request('GET', '/api/systems/chat/server', { signal });
}

/** POST /api/systems/chat/server: starts a chat server of model on 127.0.0.1 (201, as above); 409 when one runs. */
export function startChatServer(model) {
  return request('POST', '/api/systems/chat/server', { body: { model } });
}

/** DELETE /api/systems/chat/server: stops it ({running: false, stopped, stats}); 404 when none runs. */
export function stopChatServer() {
  return request('DELETE', '/api/systems/chat/server');
}

/** GET /api/results/{experiment}/latest: the stored record, or null when the experiment never ran here. */
export async function getLatest(experiment, signal) {
  try {
    return await request('GET', `/api/results/${seg(experiment)}/latest`, { signal });
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) {
      return null;
    }
    throw e;
  }
}

/**
 * POST /api/runs: starts a run. params maps names to the strings typed (the server parses and checks them).
 * Answers {id, experiment, state, events}; throws ApiError 400/404/409/429 with the server's words.
 */
export function startRun(experiment, params, quick) {
  return request('POST', '/api/runs', { body: { experiment, params, quick } });
}

/** GET /api/runs/{id}: {id, experiment, state, progress, record}. */
export function getRun(id, signal) {
  return request('GET', `/api/runs/${seg(id)}`, { signal });
}

/** DELETE /api/runs/{id}: asks the run to stop; it then ends with status CANCELLED. */
export function cancelRun(id) {
  return request('DELETE', `/api/runs/${seg(id)}`);
}

/**
 * Follows a run until it ends: onProgress({fraction, message}) for each progress event, then onDone(record) once.
 * If the event stream breaks for good, the run is polled (GET /api/runs/{id}) once a second instead; onLost(message)
 * is called when the run cannot be followed at all (the server forgot it or went away). Returns a function that
 * stops following (the run itself goes on).
 */
export function watchRun(runId, { onProgress, onDone, onLost }) {
  if (FIXTURES) {
    let stopped = false;
    let stopInner = () => {};
    fixtures().then((m) => {
      if (!stopped) {
        stopInner = m.watch(runId, { onProgress, onDone: (record) => { stopped = true; onDone(record); } });
      }
    }).catch((e) => { if (!stopped) { stopped = true; onLost(e.message); } });
    return () => { stopped = true; stopInner(); };
  }
  return followEvents(`/api/runs/${seg(runId)}/events`, async () => {
    const run = await getRun(runId);
    return { done: run.state === 'done' && run.record ? run.record : null, progress: run.progress };
  }, { onProgress, onDone, onLost, what: `run ${runId}` });
}

/**
 * The server-sent events of a run at eventsPath: onProgress(data) per `progress` event, then onDone(data) once for
 * `done`, or onLost(message) for `failed` {"error"} or a run that cannot be followed. When the stream breaks for
 * good, poll() (→ {done: data|null, progress}) is called once a second instead. Returns a function that stops
 * following; the EventSource is closed as soon as the run ends, so the browser does not reconnect.
 */
function followEvents(eventsPath, poll, { onProgress, onDone, onLost, what }) {
  let stopped = false;
  let stopInner = () => {};
  const stop = () => {
    stopped = true;
    stopInner();
  };
  const done = (data) => {
    if (!stopped) {
      stop();
      onDone(data);
    }
  };
  const lost = (message) => {
    if (!stopped) {
      stop();
      onLost(message);
    }
  };
  const source = new EventSource(eventsPath);
  stopInner = () => source.close();
  const parse = (event) => {
    try {
      return JSON.parse(event.data);
    } catch {
      lost(`${what} sent an event that is not JSON`);
      return null;
    }
  };
  source.addEventListener('progress', (event) => {
    const progress = parse(event);
    if (progress && !stopped) {
      onProgress(progress);
    }
  });
  source.addEventListener('done', (event) => {
    const data = parse(event);
    if (data) {
      done(data);
    }
  });
  source.addEventListener('failed', (event) => {
    const data = parse(event);
    if (data) {
      lost(typeof data.error === 'string' ? data.error : `${what} failed`);
    }
  });
  source.addEventListener('error', () => {
    // While CONNECTING the browser reconnects by itself and the server sends the current state first.
    if (stopped || source.readyState !== EventSource.CLOSED) {
      return;
    }
    let timer = 0;
    stopInner = () => clearTimeout(timer);
    const again = async () => {
      try {
        const state = await poll();
        if (state.done) {
          done(state.done);
          return;
        }
        if (state.progress && !stopped) {
          onProgress(state.progress);
        }
      } catch (e) {
        lost(e instanceof ApiError && e.status === 404 ? `the server no longer knows ${what}` : e.message);
        return;
      }
      if (!stopped) {
        timer = setTimeout(again, 1000);
      }
    };
    again();
  });
  return stop;
}

/** GET /api/systems/{key}: the system with its run parameters ({name, kind, min, max, choices, default}). */
export function getSystem(key, signal) {
  return request('GET', `/api/systems/${seg(key)}`, { signal });
}

/**
 * POST /api/systems/{key}/runs: starts a crawl or etl run. params maps names to the values typed (the server checks
 * them); extra holds switches such as {crashAndResume: true}. Answers {id, system, status, events}; throws ApiError
 * 400/404/409/429 with the server's words.
 */
export function startSystemRun(key, params, extra = {}) {
  return request('POST', `/api/systems/${seg(key)}/runs`, { body: { params, ...extra } });
}

/** GET /api/systems/{key}/runs/{id}: {id, system, status, params, progress, summary, error}. */
export function getSystemRun(key, id, signal) {
  return request('GET', `/api/systems/${seg(key)}/runs/${seg(id)}`, { signal });
}

/** DELETE /api/systems/{key}/runs/{id}: asks the run to stop; it then ends with status CANCELLED. */
export function cancelSystemRun(key, id) {
  return request('DELETE', `/api/systems/${seg(key)}/runs/${seg(id)}`);
}

/**
 * Follows a system run: onProgress(progress) per progress event, onDone(state) once with the ended run
 * ({status, summary, ...}), onLost(message) when it cannot be followed. Returns a function that stops following.
 */
export function watchSystemRun(key, id, { onProgress, onDone, onLost }) {
  return followEvents(`/api/systems/${seg(key)}/runs/${seg(id)}/events`, async () => {
    const run = await getSystemRun(key, id);
    return { done: run.status !== 'RUNNING' ? run : null, progress: run.progress };
  }, { onProgress, onDone, onLost, what: `${key} run ${id}` });
}
