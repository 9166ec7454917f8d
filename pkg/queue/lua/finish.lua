-- ARGV: prefix, stage, queue, item, worker, lease, outcome (success,
-- failure, retry, snooze), reason, result, progress set, success set,
-- failure set, delay (ms, retry and snooze), then (stage, queue, item) for
-- each next-stage push.
-- Records the outcome of one attempt only if the caller still holds the
-- item under its lease: a worker whose item was reclaimed (it was thought
-- dead) must not move it between the sets behind its new holder. The
-- next-stage items are pushed in the same step as the success.
-- Returns 1 if recorded, 2 if this very outcome was recorded before (a
-- retried call), 0 if the lease was lost and the outcome dropped.
local stage, q, item, worker, lease = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local outcome, reason, result = ARGV[7], ARGV[8], ARGV[9]
local progress, success, failure, delay = ARGV[10], ARGV[11], ARGV[12], tonumber(ARGV[13])
local h = hist_key(stage, item)
local f = redis.call('HMGET', h, 'lease', 'done_lease')
if f[1] ~= lease then
  if f[2] == lease then return 2 end
  return 0
end
redis.call('LREM', proc_key(worker, q), 1, item)
redis.call('SREM', key(progress), item)
redis.call('HSET', h, 'lease', '', 'done_lease', lease)
local now = now_ms()
local ts = stamp(now)
if outcome == 'success' then
  redis.call('SREM', key(failure), item)
  redis.call('SADD', key(success), item)
  redis.call('HSET', h, 'status', 'success', 'finished_at', ts, 'error', '', 'result', result)
  for i = 14, #ARGV - 2, 3 do
    enqueue(ARGV[i], ARGV[i + 1], ARGV[i + 2], ts)
  end
elseif outcome == 'failure' then
  redis.call('SREM', key(success), item)
  redis.call('SADD', key(failure), item)
  redis.call('HSET', h, 'status', 'failure', 'finished_at', ts, 'error', reason, 'result', '')
else
  local due = now + delay
  redis.call('ZADD', delayed_key(q), due, item)
  redis.call('HSET', h, 'status', 'retrying', 'error', reason, 'retry_at', stamp(due))
  if outcome == 'snooze' then
    -- A snooze is not an attempt: the handler asked to be called later.
    redis.call('HINCRBY', h, 'attempts', -1)
  end
end
return 1
