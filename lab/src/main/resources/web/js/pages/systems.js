// The systems pages: #/systems lists GET /api/systems; #/systems/{key} shows one system's page. A system whose page
// is not built yet gets a marked slot (div.system-slot[data-system=KEY]) saying it is coming.
//
// To add a page: write a function (el, system, signal) => void that fills el, and put it in PAGES under its key.
// chat: chatPage below (starts the chat server in the lab). jobs: js/pages/jobs.js. crawl and etl:
// js/pages/crawl.js and js/pages/etl.js (on js/pages/system-run.js).

import { getChatServer, getSystems, startChatServer, stopChatServer } from '../api.js';
import { formatNumber, h } from '../dom.js';
import { crawlPage } from './crawl.js';
import { etlPage } from './etl.js';
import { jobsPage } from './jobs.js';

/** How often the chat page reads the server's counters. */
const CHAT_POLL_MS = 1000;

/** The chat's models, as the lab starts them (the value is the API's model id). */
const CHAT_MODELS = [
  ['eventloop', 'eventloop: an event loop (Netty epoll)'],
  ['vthreads', 'vthreads: a virtual thread per connection (Helidon)'],
  ['platform', 'platform: an OS thread per connection (Netty OIO)'],
];

/** The counters of ChatStats, in the order shown, with their words. */
const CHAT_STATS = [
  ['connections', 'Connections open'],
  ['accepted', 'Connections accepted'],
  ['received', 'Messages received'],
  ['delivered', 'Frames delivered'],
  ['errors', 'Error replies'],
  ['slowConsumers', 'Slow-consumer closes'],
  ['rateLimited', 'Rate-limited messages'],
];

/**
 * The chat page: the reader picks a model and presses Start; the lab starts that chat server in its own JVM on
 * 127.0.0.1 (POST /api/systems/chat/server), then shows its address, a link to the chat's own browser client, its
 * counters read every second, and Stop. When the API says the lab is not on loopback, a warning says that link only
 * works on the lab's machine. The page's signal stops the polling and any request in flight.
 */
function chatPage(el, system, signal) {
  const model = h('select', { id: 'chat-model', name: 'model' },
    CHAT_MODELS.map(([id, words]) => h('option', { value: id }, words)));
  const start = h('button', { type: 'submit', class: 'primary', dataset: { action: 'start-chat' } }, 'Start');
  const stop = h('button', { type: 'button', dataset: { action: 'stop-chat' } }, 'Stop');
  const error = h('p', { class: 'error', role: 'alert', hidden: true });
  const notice = h('p', { class: 'notice', hidden: true });
  // the lab is served beyond loopback (serve --host 0.0.0.0) but the chat stays on 127.0.0.1 by design
  const remote = h('p', { class: 'warning chat-remote', hidden: true },
    'This lab is served beyond loopback, but its chat server listens on 127.0.0.1 only: the address and the '
    + 'client link below work only in a browser on the machine that runs the lab.');
  const name = h('input', { id: 'chat-name', type: 'text', maxlength: '32', autocomplete: 'nickname',
    placeholder: 'alice' });
  const link = h('a', { class: 'button primary', target: '_blank', rel: 'noopener', dataset: { action: 'open-chat' } },
    'Open the chat client ↗');
  const address = h('code', { class: 'chat-address' });
  const runningModel = h('span', {});
  const since = h('time', {});
  const values = Object.fromEntries(CHAT_STATS.map(([key]) => [key, h('dd', { dataset: { stat: key } }, '—')]));
  const stats = h('dl', { class: 'chat-stats', 'aria-live': 'off' },
    CHAT_STATS.map(([key, words]) => h('div', {}, h('dt', {}, words), values[key])));
  const updated = h('p', { class: 'hint chat-updated' });
  const form = h('form', { class: 'chat-open chat-start' },
    h('div', { class: 'param' }, h('label', { for: 'chat-model' }, 'Model'), model), start);
  const panel = h('section', { class: 'chat-running', hidden: true, 'aria-label': 'The running chat server' },
    h('dl', { class: 'chat-facts' },
      h('div', {}, h('dt', {}, 'Model'), h('dd', {}, runningModel)),
      h('div', {}, h('dt', {}, 'Address'), h('dd', {}, address)),
      h('div', {}, h('dt', {}, 'Started'), h('dd', {}, since))),
    h('div', { class: 'chat-open' },
      h('div', { class: 'param' }, h('label', { for: 'chat-name' }, 'Your name (optional)'), name), link, stop),
    h('h2', {}, 'Live counters'), stats, updated);
  let url = null;

  const updateLink = () => {
    if (url === null) {
      link.removeAttribute('href');
      return;
    }
    const target = new URL(url);
    if (name.value.trim()) {
      target.searchParams.set('name', name.value.trim());
    }
    link.href = target.href;
  };

  /** Shows what GET/POST answered: the running server or the start form. */
  const show = (chat) => {
    const running = chat.running === true;
    remote.hidden = chat.labOnLoopback !== false;
    panel.hidden = !running;
    form.hidden = running;
    if (!running) {
      url = null;
      updateLink();
      notice.hidden = !chat.lastStop;
      notice.textContent = chat.lastStop ? `Last chat server: ${chat.lastStop}.` : '';
      return;
    }
    notice.hidden = true;
    if (url !== chat.url) {
      url = chat.url;
      updateLink();
    }
    runningModel.textContent = chat.model;
    address.textContent = chat.url;
    since.dateTime = chat.startedAt;
    since.textContent = new Date(chat.startedAt).toLocaleTimeString('en-GB');
    for (const [key] of CHAT_STATS) {
      const value = chat.stats?.[key];
      values[key].textContent = typeof value === 'number' ? formatNumber(value) : '—';
    }
    updated.textContent = `Updated ${new Date().toLocaleTimeString('en-GB')}, every second.`;
  };

  const fail = (e) => {
    if (e?.name === 'AbortError' || signal.aborted) {
      return;
    }
    error.hidden = false;
    error.textContent = e?.message ?? String(e);
  };

  let busy = null;
  const refresh = () => {
    busy ??= getChatServer(signal).then((chat) => {
      if (!signal.aborted) {
        error.hidden = true;
        show(chat);
      }
    }).catch(fail).finally(() => {
      busy = null;
    });
    return busy;
  };

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    start.disabled = true;
    try {
      const chat = await startChatServer(model.value);
      if (!signal.aborted) {
        error.hidden = true;
        show(chat);
        link.focus();
      }
    } catch (err) {
      fail(err);
      refresh(); // a 409 means one runs: show it
    } finally {
      start.disabled = false;
    }
  });
  stop.addEventListener('click', async () => {
    stop.disabled = true;
    try {
      await stopChatServer();
    } catch (err) {
      fail(err);
    } finally {
      stop.disabled = false;
    }
    await refresh();
    if (!form.hidden) {
      model.focus();
    }
  });
  name.addEventListener('input', updateLink);

  el.append(
    h('p', {}, 'Start a chat server inside this lab: it listens on 127.0.0.1 on a free port and serves its own '
      + 'browser client there. Open the client in two tabs to chat with yourself, and watch the counters move.'),
    remote, form, error, notice, panel,
    h('p', { class: 'hint' }, 'One chat server at a time. It stops after 30 minutes with no connection, and when '
      + 'the lab stops. From a terminal: ', h('code', {}, './conclab chat serve --model vthreads --port 8080'), '.'));

  const timer = setInterval(() => {
    if (!document.hidden) {
      refresh();
    }
  }, CHAT_POLL_MS);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
  refresh();
}

const PAGES = {
  chat: chatPage,
  jobs: jobsPage,
  crawl: crawlPage,
  etl: etlPage,
};

/** Page keys: Escape goes to hash. */
function escapeTo(hash) {
  return {
    keys(e) {
      if (e.key !== 'Escape') {
        return false;
      }
      location.hash = hash;
      return true;
    },
  };
}

function systemCard(system) {
  const available = system.available && PAGES[system.key];
  return h('li', { class: 'system', dataset: { system: system.key } },
    h('a', { href: `#/systems/${encodeURIComponent(system.key)}` },
      h('span', { class: 'system-title' }, system.title),
      h('span', { class: `badge ${available ? 'status-answered' : 'coming'}` }, available ? '● ready' : '○ coming')),
    h('p', {}, system.summary ?? ''));
}

/** Renders the list (key null) or one system's page into el. */
export async function renderSystems(el, key, signal) {
  const systems = await getSystems(signal);
  if (signal.aborted) {
    return {};
  }
  if (key === null) {
    el.replaceChildren(
      h('h1', { tabindex: '-1' }, 'The systems'),
      h('p', { class: 'lede' }, 'Full systems built in two concurrency models and measured against each other. '
        + 'Their own pages live here as they are built.'),
      h('ul', { class: 'systems' }, systems.map(systemCard)));
    return escapeTo('#/');
  }
  const system = systems.find((s) => s.key === key);
  const back = escapeTo('#/systems');
  if (!system) {
    el.replaceChildren(
      h('h1', { tabindex: '-1' }, 'No such system'),
      h('p', {}, `The lab has no system named “${key}”. `, h('a', { href: '#/systems' }, 'See the systems'), '.'));
    return back;
  }
  const body = h('div', { class: 'system-page', dataset: { system: system.key } });
  el.replaceChildren(
    h('nav', { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: '#/systems' }, 'Systems'), ' › ', h('span', { 'aria-current': 'page' }, system.title)),
    h('h1', { tabindex: '-1' }, system.title),
    h('p', { class: 'lede' }, system.summary ?? ''),
    body);
  const page = system.available ? PAGES[system.key] : null;
  if (page) {
    page(body, system, signal);
  } else {
    body.append(h('div', { class: 'system-slot', dataset: { system: system.key } },
      h('p', {}, h('span', { class: 'badge coming' }, '○ coming'), ' This system’s page is not in the web lab yet. '
        + 'Its command line works today: ', h('code', {}, `./conclab ${system.key} --help`), '.')));
  }
  return back;
}
