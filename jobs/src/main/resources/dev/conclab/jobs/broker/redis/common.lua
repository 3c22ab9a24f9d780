-- Shared by every script of the Redis broker (prepended to each one before loading).
-- ARGV[1] is always the key prefix. Keys are built here from it, so the scripts suit one server (or a primary with
-- replicas), not Redis Cluster. Times come from the server's clock (TIME), the one clock every machine shares.
local P = ARGV[1]
local G = 'workers'
local FINAL = { SUCCESS = true, FAILURE = true, REVOKED = true }
local STATS = P .. 'stats'
local SPEC = 11 -- values per message spec: see TaskMessageJson.appendSpec in Java

-- A receipt is "entry id#generation": the generation counts every delivery of the task, so a stale receipt (the
-- message was redelivered, or retried, since) never passes for the current one. Returns entry id, generation.
local function parse_receipt(receipt)
  local eid, gen = string.match(receipt, '^(.-)#(%d+)$')
  return eid or receipt, gen or ''
end

-- Each stream's reservations are indexed by when they lapse: a sorted set of entry ids scored by deadline (ms).
-- The consumer group's pending list says who holds an entry; this index says until when, per reservation, so a
-- reserve finds the lapsed ones with one range query instead of scanning the pending list (XAUTOCLAIM scans it in
-- id order, and knows only one min-idle for all reservations).
local function lkey(sk) return sk .. ':lease' end

local function lease(sk, eid, deadline)
  redis.call('ZADD', lkey(sk), deadline, eid)
end

-- Acknowledges and deletes a stream entry, and its reservation if it had one.
local function drop_entry(sk, eid)
  redis.call('XACK', sk, G, eid)
  redis.call('XDEL', sk, eid)
  redis.call('ZREM', lkey(sk), eid)
end

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function rkey(id) return P .. 't:' .. id end
local function skey(queue, prio) return P .. 'q:' .. queue .. ':p' .. prio end
local function ekey(queue) return P .. 'q:' .. queue .. ':eta' end
local function ckey(chord) return P .. 'chord:' .. chord end

local function count(field, n) redis.call('HINCRBY', STATS, field, n or 1) end

-- A stream and its consumer group, created together; id 0 so entries added before the group are read too.
local function ensure_stream(sk)
  if redis.call('EXISTS', sk) == 0 then
    redis.call('XGROUP', 'CREATE', sk, G, '0', 'MKSTREAM')
  end
end

-- Puts a task's message where reserve finds it: the ETA set while its notBefore is in the future, else the stream
-- of its queue and priority. The record remembers where (eid = the stream entry id, '' while in the ETA set).
local function place(id, queue, prio, nb, now)
  redis.call('SADD', P .. 'queues', queue)
  local sk = skey(queue, prio)
  if tonumber(nb) > now then
    redis.call('ZADD', ekey(queue), nb, id)
    redis.call('HSET', rkey(id), 'eid', '', 'sk', sk)
  else
    ensure_stream(sk)
    local eid = redis.call('XADD', sk, '*', 't', id)
    redis.call('HSET', rkey(id), 'eid', eid, 'sk', sk)
  end
end

-- Removes a task's message from wherever it waits or is reserved (a task that reached a final state), unless that
-- is the entry already dropped (done_eid).
local function unqueue(id, done_eid)
  local rk = rkey(id)
  local f = redis.call('HMGET', rk, 'eid', 'sk', 'queue')
  if f[1] and f[1] ~= '' then
    if f[1] ~= done_eid then drop_entry(f[2], f[1]) end
  elseif f[3] then
    redis.call('ZREM', ekey(f[3]), id)
  end
end

-- Writes a new task's record (state PENDING) from the spec at ARGV[i]; nil if the idempotency key or the id was
-- seen before (then the id first accepted is returned as the second value, and a duplicate counted).
local function record_new(i)
  local id, name, args, queue, prio, nb, idem, submitted, msg, attempt, chord = unpack(ARGV, i, i + SPEC - 1)
  if idem ~= '' then
    local ik = P .. 'idem:' .. idem
    local first = redis.call('GET', ik)
    if first then
      count('duplicates')
      return nil, first
    end
    redis.call('SET', ik, id)
  end
  local rk = rkey(id)
  if redis.call('EXISTS', rk) == 1 then
    count('duplicates')
    return nil, id
  end
  redis.call('HSET', rk, 'name', name, 'state', 'PENDING', 'args', args, 'attempt', attempt, 'deliveries', 0,
    'submitted', submitted, 'msg', msg, 'queue', queue, 'prio', prio, 'nb', nb, 'chord', chord, 'eid', '')
  return id, id
end

-- Accepts and places a new task from the spec at ARGV[i]; returns the id it is known under.
local function enqueue_new(i, now)
  local placed, known = record_new(i)
  if placed then
    place(placed, ARGV[i + 3], ARGV[i + 4], ARGV[i + 5], now)
  end
  return known
end

-- A chord fails with its first member that fails for good: the callback's record becomes FAILURE.
local function chord_fail(chord, member, err, now)
  local ck = ckey(chord)
  if redis.call('HGET', ck, 'state') ~= 'open' then return end
  redis.call('HSET', ck, 'state', 'failed')
  local cb = redis.call('HGET', ck, 'cb')
  local st = redis.call('HGET', rkey(cb), 'state')
  if st and not FINAL[st] then
    redis.call('HSET', rkey(cb), 'state', 'FAILURE', 'error', 'chord member ' .. member .. ' failed: ' .. err,
      'finished', now)
    count('failed')
  end
end

-- Counts a chord down; the last member's success places the callback, in the same script as that success.
local function chord_success(chord, now)
  local ck = ckey(chord)
  if redis.call('HGET', ck, 'state') ~= 'open' then return end
  if redis.call('HINCRBY', ck, 'left', -1) <= 0 then
    redis.call('HSET', ck, 'state', 'fired')
    local cb = redis.call('HGET', ck, 'cb')
    local f = redis.call('HMGET', rkey(cb), 'state', 'queue', 'prio', 'nb')
    if f[1] == 'PENDING' then place(cb, f[2], f[3], f[4], now) end
  end
end

-- Makes a task REVOKED (it must not be final); its chord, if any, fails.
local function revoke_record(id, reason, now)
  local rk = rkey(id)
  redis.call('HSET', rk, 'state', 'REVOKED', 'error', reason, 'finished', now)
  local chord = redis.call('HGET', rk, 'chord')
  if chord and chord ~= '' then chord_fail(chord, id, 'revoked: ' .. reason, now) end
end
