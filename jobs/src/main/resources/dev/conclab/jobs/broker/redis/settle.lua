-- ARGV: prefix, n, then n settlements, each as its length L followed by L values: task id, kind (S success,
-- R retry, F failure, V revoked, L release), receipt, consumer, queue, prio, text (result, error or reason),
-- dead-letter flag, chord id or '', then a message spec or nothing (S: the chain's link; R: the next attempt).
-- Returns, per settlement in order, 1 if applied or 0 if dropped. Each settlement sees the ones before it.
local now = now_ms()

local function settle_one(b, len)
  local id, kind, receipt, consumer, queue, prio, text, dead, chord = unpack(ARGV, b, b + 8)
  local spec = len > 9 and b + 9 or nil
  local eid, gen = parse_receipt(receipt)
  local rk = rkey(id)
  local rsk = skey(queue, prio)
  local f = redis.call('HMGET', rk, 'state', 'eid', 'gen', 'sk', 'queue')
  local st = f[1]

  if not st then
    drop_entry(rsk, eid)
    return 0
  end
  if FINAL[st] then
    -- a redelivered copy finished after the first; a revoked task's own worker reporting back is not a duplicate
    if st ~= 'REVOKED' then count('duplicates') end
    drop_entry(rsk, eid)
    return 0
  end

  if kind == 'R' or kind == 'L' then
    -- only the current holder of the current reservation may put the message back
    if f[2] ~= eid or f[3] ~= gen then return 0 end
    local pe = redis.call('XPENDING', rsk, G, eid, eid, 1)
    if #pe == 0 or pe[1][2] ~= consumer then return 0 end
    if kind == 'R' then
      drop_entry(rsk, eid)
      redis.call('HSET', rk, 'state', 'RETRY', 'error', text, 'msg', ARGV[spec + 8], 'attempt', ARGV[spec + 9],
        'adel', 0)
      place(id, ARGV[spec + 3], ARGV[spec + 4], ARGV[spec + 5], now)
    else
      -- lapsed at once: the next reserve takes it back before anything newer in its stream (not a redelivery)
      lease(rsk, eid, 0)
      redis.call('HSET', rk, 'state', 'PENDING', 'rel', '1')
      redis.call('HINCRBY', rk, 'deliveries', -1)
      redis.call('HINCRBY', rk, 'adel', -1)
      count('delivered', -1)
    end
    return 1
  end

  -- a final state: the delivered entry goes, and the task's current message if that is another one (a stale
  -- receipt whose task was retried meanwhile)
  drop_entry(rsk, eid)
  if f[2] and f[2] ~= '' and f[2] ~= eid then
    drop_entry(f[4], f[2])
  elseif (not f[2] or f[2] == '') and f[5] then
    redis.call('ZREM', ekey(f[5]), id)
  end
  if kind == 'S' then
    redis.call('HSET', rk, 'state', 'SUCCESS', 'result', text, 'finished', now, 'eid', '')
    count('succeeded')
    if spec then enqueue_new(spec, now) end
    if chord ~= '' then chord_success(chord, now) end
  elseif kind == 'F' then
    redis.call('HSET', rk, 'state', 'FAILURE', 'error', text, 'finished', now, 'eid', '')
    count('failed')
    if dead == '1' then redis.call('ZADD', P .. 'dead', redis.call('INCR', P .. 'deadseq'), id) end
    if chord ~= '' then chord_fail(chord, id, text, now) end
  else
    redis.call('HSET', rk, 'eid', '')
    revoke_record(id, text, now)
  end
  return 1
end

local results = {}
local i = 3
for k = 1, tonumber(ARGV[2]) do
  local len = tonumber(ARGV[i])
  results[k] = settle_one(i + 1, len)
  i = i + 1 + len
end
flush_counts()
return results
