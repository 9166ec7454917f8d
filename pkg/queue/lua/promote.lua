-- ARGV: prefix, stage, queue.
-- Moves the retries that are due, by Redis's clock, to the consuming end of
-- their queue. Returns how many.
local stage, q = ARGV[2], ARGV[3]
local due = redis.call('ZRANGEBYSCORE', delayed_key(q), '-inf', now_ms(), 'LIMIT', 0, 100)
for _, item in ipairs(due) do
  redis.call('ZREM', delayed_key(q), item)
  redis.call('RPUSH', key(q), item)
  redis.call('HSET', hist_key(stage, item), 'status', 'queued')
end
return #due
