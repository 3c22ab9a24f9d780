// The conclab chat page: speaks chat/PROTOCOL.md over one WebSocket. Plain DOM, no framework.
// Every piece of text from the server or the user goes into the page through textContent or an attribute set with
// setAttribute/dataset, never through an HTML parser, so a message cannot inject markup or script.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const chatPath = document.querySelector('meta[name="chat-path"]').getAttribute('content');

  let ws = null;          // the current WebSocket, null when none
  let me = null;          // our name, from the last welcome
  let current = null;     // the room shown in the middle pane
  let refCounter = 0;
  let rejoin = [];        // rooms to enter again after a reconnect
  const rooms = new Map();    // room -> {members: string[], seen: Set<number>, log: HTMLOListElement, item: HTMLLIElement}
  const pending = new Map();  // ref -> the <li> of a direct message waiting for its ack

  // ---- helpers ----

  function el(tag, className, text) {
    const e = document.createElement(tag);
    if (className) e.className = className;
    if (text !== undefined) e.textContent = String(text);
    return e;
  }

  function time(ts) {
    const d = new Date(ts);
    const p = (n) => String(n).padStart(2, '0');
    return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  }

  function nextRef() {
    refCounter += 1;
    return 'r' + refCounter;
  }

  function scrollDown(log) {
    log.scrollTop = log.scrollHeight;
  }

  function showError(code, message) {
    const li = el('li', 'error');
    li.dataset.code = code;
    li.append(el('span', 'meta', time(Date.now())), el('span', 'code', code + ': '), el('span', 'text', message));
    $('errors').append(li);
    scrollDown($('errors'));
  }

  function setStatus(state, text, closeCode) {
    const s = $('status');
    s.dataset.state = state;
    if (closeCode === undefined) {
      s.removeAttribute('data-close-code');
    } else {
      s.dataset.closeCode = String(closeCode);
    }
    s.textContent = text;
    const open = state === 'open';
    $('connect').disabled = state !== 'closed';
    $('reconnect').disabled = state !== 'closed' || !$('name').dataset.last;
    $('disconnect').disabled = !open;
    $('rename').disabled = !open;
    $('join').disabled = !open;
    $('send').disabled = !open || current === null;
    $('dm-send').disabled = !open;
  }

  function send(obj) {
    if (!ws || ws.readyState !== WebSocket.OPEN) {
      showError('not-connected', 'connect first');
      return false;
    }
    ws.send(JSON.stringify(obj));
    return true;
  }

  // ---- rooms, messages and presence ----

  function addRoom(room) {
    const log = el('ol', 'log');
    log.dataset.room = room;
    log.hidden = true;
    $('messages').append(log);
    const item = el('li');
    item.dataset.room = room;
    const name = el('button', 'room-name', room);
    name.type = 'button';
    name.addEventListener('click', () => select(room));
    const leave = el('button', 'leave', 'leave');
    leave.type = 'button';
    leave.addEventListener('click', () => send({type: 'leave', room, ref: nextRef()}));
    item.append(name, leave);
    $('rooms').append(item);
    const state = {members: [], seen: new Set(), log, item};
    rooms.set(room, state);
    return state;
  }

  function dropRoom(room) {
    const r = rooms.get(room);
    if (!r) return;
    r.log.remove();
    r.item.remove();
    rooms.delete(room);
    if (current === room) {
      select(rooms.size ? rooms.keys().next().value : null);
    }
  }

  function select(room) {
    current = room;
    for (const [name, r] of rooms) {
      r.log.hidden = name !== room;
      r.item.classList.toggle('current', name === room);
    }
    $('messages').querySelector('ol[data-room=""]').hidden = room !== null;
    $('current-room').textContent = room === null ? '—' : room;
    $('send').disabled = !(ws && ws.readyState === WebSocket.OPEN) || room === null;
    renderPresence();
  }

  function renderPresence() {
    const list = $('presence');
    list.replaceChildren();
    $('presence-room').textContent = current === null ? '—' : current;
    const r = current === null ? null : rooms.get(current);
    if (!r) return;
    for (const name of r.members) {
      const li = el('li', name === me ? 'member me' : 'member', name);
      li.dataset.name = name;
      list.append(li);
    }
  }

  // Inserts a message in id order, once: history and live messages may overlap right after a join.
  function addMessage(m) {
    const r = rooms.get(m.room);
    if (!r || r.seen.has(m.id)) return;
    r.seen.add(m.id);
    const li = el('li', 'message');
    li.dataset.id = String(m.id);
    li.dataset.from = m.from;
    const meta = el('span', 'meta', `#${m.id} ${time(m.ts)}`);
    meta.title = new Date(m.ts).toISOString();
    li.append(meta, el('span', 'from', m.from), el('span', 'text', m.text));
    const later = [...r.log.children].find((c) => c.dataset.id && Number(c.dataset.id) > m.id);
    r.log.insertBefore(li, later || null);
    scrollDown(r.log);
  }

  function addEvent(room, text) {
    const r = rooms.get(room);
    if (!r) return;
    r.log.append(el('li', 'event', text));
    scrollDown(r.log);
  }

  // ---- direct messages ----

  function addDm(m, li) {
    const item = li || el('li', 'dm');
    item.replaceChildren();
    if (m.id !== undefined) item.dataset.id = String(m.id);
    item.dataset.ts = String(m.ts);
    item.dataset.from = m.from;
    item.dataset.to = m.to;
    const meta = el('span', 'meta', m.id === undefined ? `… ${time(m.ts)}` : `#${m.id} ${time(m.ts)}`);
    item.append(meta, el('span', 'from', `${m.from} → ${m.to}`), el('span', 'text', m.text));
    if (!li) {
      $('dms').append(item);
      scrollDown($('dms'));
    }
    return item;
  }

  // ---- the protocol ----

  function onMessage(event) {
    let m;
    try {
      m = JSON.parse(event.data);
    } catch (e) {
      showError('bad-frame', 'the server sent something that is not JSON');
      return;
    }
    switch (m.type) {
      case 'welcome':
        me = m.name;
        $('me').textContent = me;
        $('name').value = me;
        $('name').dataset.last = me;
        renderPresence();
        for (const room of rejoin) send({type: 'join', room, ref: nextRef()});
        rejoin = [];
        break;
      case 'joined':
        if (m.name === me && !rooms.has(m.room)) {
          addRoom(m.room);
          select(m.room);
          // history and presence as of the join; live events follow in the room's order
          send({type: 'history', room: m.room, ref: nextRef()});
          send({type: 'who', room: m.room, ref: nextRef()});
        } else if (rooms.has(m.room)) {
          const r = rooms.get(m.room);
          if (!r.members.includes(m.name)) r.members.push(m.name);
          addEvent(m.room, `${m.name} joined`);
          if (m.room === current) renderPresence();
        }
        break;
      case 'left':
        if (m.name === me) {
          dropRoom(m.room);
        } else if (rooms.has(m.room)) {
          const r = rooms.get(m.room);
          r.members = r.members.filter((n) => n !== m.name);
          addEvent(m.room, `${m.name} left`);
          if (m.room === current) renderPresence();
        }
        break;
      case 'message':
        addMessage(m);
        break;
      case 'history':
        for (const h of m.messages) addMessage(h);
        break;
      case 'presence':
        if (rooms.has(m.room)) {
          rooms.get(m.room).members = [...m.members];
          if (m.room === current) renderPresence();
        }
        break;
      case 'dm':
        addDm(m);
        break;
      case 'ack':
        if (m.ref !== undefined && pending.has(m.ref)) {
          const li = pending.get(m.ref);
          pending.delete(m.ref);
          li.classList.remove('pending');
          li.dataset.id = String(m.id);
          li.querySelector('.meta').textContent = `#${m.id} ${time(Number(li.dataset.ts))}`;
        }
        break;
      case 'error':
        showError(m.code, m.message);
        if (m.ref !== undefined && pending.has(m.ref)) {
          const li = pending.get(m.ref);
          pending.delete(m.ref);
          li.classList.remove('pending');
          li.classList.add('failed');
        }
        break;
      default:
        showError('unknown-frame', `the server sent an unknown type: ${m.type}`);
    }
  }

  function connect(name) {
    if (ws) return;
    let url = (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + chatPath;
    if (name) url += '?name=' + encodeURIComponent(name);
    setStatus('connecting', 'connecting…');
    const socket = new WebSocket(url);
    ws = socket;
    socket.addEventListener('open', () => setStatus('open', 'connected'));
    socket.addEventListener('message', onMessage);
    socket.addEventListener('close', (e) => {
      if (ws !== socket) return;
      ws = null;
      rejoin = [...rooms.keys()];
      for (const room of [...rooms.keys()]) dropRoom(room);
      for (const li of pending.values()) li.classList.replace('pending', 'failed');
      pending.clear();
      const why = e.reason ? `${e.code}: ${e.reason}` : String(e.code);
      setStatus('closed', `closed (${why})`, e.code);
      if (e.code !== 1000) showError('closed', `connection closed with ${why}`);
    });
  }

  function disconnect() {
    if (ws) {
      rejoin = [];
      ws.close(1000, 'bye');
    }
  }

  // ---- the forms ----

  $('connect-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const name = $('name').value.trim();
    $('name').dataset.last = name;
    rejoin = [];
    connect(name);
  });
  $('reconnect').addEventListener('click', () => connect($('name').dataset.last));
  $('disconnect').addEventListener('click', disconnect);
  $('rename').addEventListener('click', () => send({type: 'hello', name: $('name').value.trim(), ref: nextRef()}));

  $('join-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const room = $('room').value.trim();
    if (room && send({type: 'join', room, ref: nextRef()})) $('room').value = '';
  });

  $('send-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const text = $('text').value;
    if (current !== null && text && send({type: 'send', room: current, text, ref: nextRef()})) $('text').value = '';
  });

  $('dm-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const to = $('dm-to').value.trim();
    const text = $('dm-text').value;
    if (!to || !text) return;
    const ref = nextRef();
    if (send({type: 'dm', to, text, ref})) {
      const li = addDm({from: me, to, text, ts: Date.now()});
      li.classList.add('pending', 'sent');
      pending.set(ref, li);
      $('dm-text').value = '';
    }
  });

  const asked = new URLSearchParams(location.search).get('name');
  if (asked) $('name').value = asked;
  setStatus('closed', 'not connected');
})();
