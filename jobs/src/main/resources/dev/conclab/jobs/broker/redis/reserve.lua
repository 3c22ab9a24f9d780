-- ARGV: prefix, consumer, max, visibility ms, nq, queues...
-- Returns { deliveries d, then d x (task id, receipt, delivery count, message JSON) } and, when d = 0, what a
-- waiting reserve needs: { ..., ms until the next ETA or lapse or -1, s, s x (stream key, last entry id or 0-0) }.
local consumer, max, vis, nq = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local now = now_ms()
local out = { 0 }
local n = 0

local function deliver(sk, eid, id, reclaimed)
  local rk = rkey(id)
  local f = redis.call('HMGET', rk, 'state', 'msg', 'rel', 'eid')
  -- revoked or finished tasks, and stray entries, are removed instead of delivered
  if not f[1] or FINAL[f[1]] or (f[4] and f[4] ~= '' and f[4] ~= eid) then
    drop_entry(sk, eid)
    return
  end
  lease(sk, eid, now + vis)
  redis.call('HINCRBY', rk, 'deliveries', 1)
  local d = redis.call('HINCRBY', rk, 'adel', 1) -- deliveries of this attempt: a retry starts again at 1
  local gen = redis.call('HINCRBY', rk, 'gen', 1)
  count('delivered')
  if reclaimed and f[3] ~= '1' then count('redelivered') end
  redis.call('HSET', rk, 'state', 'RECEIVED', 'worker', consumer, 'eid', eid, 'sk', sk, 'rel', '0')
  n = n + 1
  out[#out + 1] = id
  out[#out + 1] = eid .. '#' .. gen
  out[#out + 1] = d
  out[#out + 1] = f[2]
end

local function move_due(queue)
  local ek = ekey(queue)
  local due = redis.call('ZRANGEBYSCORE', ek, '-inf', now, 'LIMIT', 0, 1000)
  for _, id in ipairs(due) do
    redis.call('ZREM', ek, id)
    local f = redis.call('HMGET', rkey(id), 'state', 'prio')
    if f[1] and not FINAL[f[1]] then
      local sk = skey(queue, f[2])
      ensure_stream(sk)
      redis.call('HSET', rkey(id), 'eid', redis.call('XADD', sk, '*', 't', id), 'sk', sk)
    end
  end
end

-- Lapsed reservations of one stream, claimed for this consumer (XCLAIM moves the pending entry to it).
local function reclaim(sk)
  local lapsed = redis.call('ZRANGEBYSCORE', lkey(sk), '-inf', now, 'LIMIT', 0, max - n)
  for _, eid in ipairs(lapsed) do
    local claimed = redis.call('XCLAIM', sk, G, consumer, 0, eid)
    if claimed[1] then
      deliver(sk, eid, claimed[1][2][2], true)
    else
      drop_entry(sk, eid) -- the entry is gone: nothing to deliver
    end
  end
end

for qi = 1, nq do
  local queue = ARGV[5 + qi]
  move_due(queue)
  for prio = 9, 0, -1 do
    local sk = skey(queue, prio)
    ensure_stream(sk)
    -- lapsed reservations first: in one stream they are older than anything not yet delivered
    if n < max then reclaim(sk) end
    if n < max then
      local r = redis.call('XREADGROUP', 'GROUP', G, consumer, 'COUNT', max - n, 'STREAMS', sk, '>')
      if r then
        for _, e in ipairs(r[1][2]) do deliver(sk, e[1], e[2][2], false) end
      end
    end
  end
end
out[1] = n
if n > 0 then return out end

-- Nothing ready: when to look again (the next ETA, the next lapse), and where each stream ends, so that a blocking
-- XREAD from there wakes for the next XADD and for nothing older.
local wake = -1
local function sooner(t)
  if wake == -1 or t < wake then wake = t end
end
local ends = {}
for qi = 1, nq do
  local queue = ARGV[5 + qi]
  local first = redis.call('ZRANGE', ekey(queue), 0, 0, 'WITHSCORES')
  if first[2] then sooner(tonumber(first[2])) end
  for prio = 9, 0, -1 do
    local sk = skey(queue, prio)
    local next_lapse = redis.call('ZRANGE', lkey(sk), 0, 0, 'WITHSCORES')
    if next_lapse[2] then sooner(tonumber(next_lapse[2])) end
    local last = redis.call('XREVRANGE', sk, '+', '-', 'COUNT', 1)
    ends[#ends + 1] = sk
    ends[#ends + 1] = last[1] and last[1][1] or '0-0'
  end
end
out[#out + 1] = wake == -1 and -1 or math.max(0, wake - now) -- a delay: the caller's clock may differ
out[#out + 1] = #ends / 2
for _, v in ipairs(ends) do out[#out + 1] = v end
return out
