-- ARGV: prefix, stage, reclaimer, dead-after (ms), progress set, queue...
-- Gives back the items of workers silent for dead-after, by Redis's clock,
-- and forgets them. Silence is death only if Redis was there to hear: the
-- reclaimer itself must have beaten without a long gap for dead-after, or a
-- Redis outage (or restart) would make every live worker look dead.
-- Returns {items given back, {workers reclaimed}, 1 if the reclaimer could
-- judge, else 0}.
local stage, me, dead_after, progress = ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local queues = {unpack(ARGV, 6)}
local now = now_ms()
local mine = redis.call('ZSCORE', workers_key(stage), me)
local since = redis.call('HGET', since_key(stage), me)
if not mine or not since or now - tonumber(since) < dead_after or now - tonumber(mine) > dead_after / 2 then
  return {0, {}, 0}
end
local n, gone = 0, {}
for _, w in ipairs(redis.call('ZRANGEBYSCORE', workers_key(stage), '-inf', now - dead_after, 'LIMIT', 0, 20)) do
  if w ~= me then
    n = n + release(stage, w, queues, progress, 'redelivered: worker ' .. w .. ' stopped before finishing')
    forget(stage, w)
    gone[#gone + 1] = w
  end
end
return {n, gone, 1}
