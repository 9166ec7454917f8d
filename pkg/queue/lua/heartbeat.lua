-- ARGV: prefix, stage, worker, dead-after (ms).
-- Records the worker's heartbeat at Redis's time, and since when it has
-- beaten without a gap longer than half of dead-after: a reclaimer must have
-- been heard continuously for dead-after before it may call others dead.
-- Returns {now (ms), 1 if the worker was registered, else 0}.
local stage, worker, dead_after = ARGV[2], ARGV[3], tonumber(ARGV[4])
local now = now_ms()
local prev = redis.call('ZSCORE', workers_key(stage), worker)
redis.call('ZADD', workers_key(stage), now, worker)
local since = redis.call('HGET', since_key(stage), worker)
if not prev or not since or now - tonumber(prev) > dead_after / 2 then
  redis.call('HSET', since_key(stage), worker, now)
end
if prev then return {now, 1} end
return {now, 0}
