-- ARGV: prefix, consumer, max, visibility ms, nq, queues..., npre, then npre x (queue, prio, entry id, task id)
-- already read by a blocking XREADGROUP of this consumer.
-- Returns { next ETA in ms or -1, then per delivery: task id, entry id, delivery count, message JSON }.
local consumer, max, vis, nq = ARGV[2], tonumber(ARGV[3]), ARGV[4], tonumber(ARGV[5])
local now = now_ms()
local out = { -1 }
local n = 0

local function drop(sk, eid)
  redis.call('XACK', sk, G, eid)
  redis.call('XDEL', sk, eid)
end

local function deliver(sk, eid, id, reclaimed)
  local rk = rkey(id)
  local f = redis.call('HMGET', rk, 'state', 'msg', 'rel', 'eid')
  -- revoked or finished tasks, and stray entries, are removed instead of delivered
  if not f[1] or FINAL[f[1]] or (f[4] and f[4] ~= '' and f[4] ~= eid) then
    drop(sk, eid)
    return
  end
  local d = redis.call('HINCRBY', rk, 'deliveries', 1)
  count('delivered')
  if reclaimed and f[3] ~= '1' then count('redelivered') end
  redis.call('HSET', rk, 'state', 'RECEIVED', 'worker', consumer, 'eid', eid, 'sk', sk, 'vis', vis, 'rel', '0')
  n = n + 1
  out[#out + 1] = id
  out[#out + 1] = eid
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

local pre = 6 + nq
for k = 0, tonumber(ARGV[pre]) - 1 do
  local i = pre + 1 + k * 4
  deliver(skey(ARGV[i], ARGV[i + 1]), ARGV[i + 2], ARGV[i + 3], false)
end

for qi = 1, nq do
  local queue = ARGV[5 + qi]
  move_due(queue)
  for prio = 9, 0, -1 do
    local sk = skey(queue, prio)
    ensure_stream(sk)
    if n < max then
      -- lapsed reservations first: in one stream they are older than anything not yet delivered
      local cursor, rounds = '0-0', 0
      repeat
        local r = redis.call('XAUTOCLAIM', sk, G, consumer, vis, cursor, 'COUNT', max - n)
        cursor = r[1]
        for _, e in ipairs(r[2]) do deliver(sk, e[1], e[2][2], true) end
        rounds = rounds + 1
      until n >= max or cursor == '0-0' or rounds >= 8
    end
    if n < max then
      local r = redis.call('XREADGROUP', 'GROUP', G, consumer, 'COUNT', max - n, 'STREAMS', sk, '>')
      if r then
        for _, e in ipairs(r[1][2]) do deliver(sk, e[1], e[2][2], false) end
      end
    end
  end
  local first = redis.call('ZRANGE', ekey(queue), 0, 0, 'WITHSCORES')
  if first[2] then
    local due = tonumber(first[2])
    if out[1] == -1 or due < out[1] then out[1] = due end
  end
end
return out
