-- ARGV: prefix, chord id, n, n member ids, then the callback's spec. Records the callback PENDING (placed when the
-- last member succeeds). Fails if the chord id is taken.
local chord, n = ARGV[2], tonumber(ARGV[3])
local ck = ckey(chord)
if redis.call('EXISTS', ck) == 1 then return redis.error_reply('chord ' .. chord .. ' already exists') end
local i = 4 + n
local cb, known = record_new(i)
if not cb then return redis.error_reply('chord callback ' .. known .. ' was already submitted') end
redis.call('HSET', ck, 'state', 'open', 'left', n, 'cb', cb)
if n > 0 then redis.call('RPUSH', ck .. ':m', unpack(ARGV, 4, 3 + n)) end
if n == 0 then chord_success(chord, now_ms()) end
return cb
