-- ARGV: prefix, stage, worker, max attempts, progress set, success set,
-- failure set, queue...
-- Takes the oldest item of the first non-empty queue into the worker's
-- processing list, counts the attempt and grants a lease, in one step: an
-- item that kills its worker has its attempt counted all the same, and one
-- past the limit goes to the failure set before it can run again.
-- A worker taking an item is registered if it was not (a reclaimer took it
-- for dead meanwhile): else, dying before its next heartbeat, it would
-- strand the item where no reclaimer looks.
-- Returns {{queue, item, attempt, lease} or {}, {items given up},
-- {duplicates dropped}, 1 if the worker had to be registered again}.
local stage, worker, max_attempts = ARGV[2], ARGV[3], tonumber(ARGV[4])
local progress, success, failure = ARGV[5], ARGV[6], ARGV[7]
local ts = stamp(now_ms())
local gave_up, dropped = {}, {}
local budget = 100 -- items looked at per call, so that the script stays short
for i = 8, #ARGV do
  local q = ARGV[i]
  while budget > 0 do
    budget = budget - 1
    local item = redis.call('RPOP', key(q))
    if not item then break end
    local h = hist_key(stage, item)
    local f = redis.call('HMGET', h, 'status', 'error')
    if f[1] == 'running' and holder(h, item) then
      -- The same item is in flight already (pushed again without
      -- Enqueue, which would have refused it): it runs once.
      dropped[#dropped + 1] = item
    else
      if not f[1] then
        -- Pushed by a plain LPUSH (a PVS producer): no history yet.
        redis.call('HSET', h, 'stage', stage, 'queue', q, 'enqueued_at', ts)
      end
      if not f[1] or f[1] == 'success' or f[1] == 'failure' then
        redis.call('HSET', h, 'attempts', 0) -- a new life of the item
      end
      -- A copy waiting for its retry is merged into this attempt.
      redis.call('ZREM', delayed_key(q), item)
      local n = redis.call('HINCRBY', h, 'attempts', 1)
      if n > max_attempts then
        redis.call('HSET', h, 'attempts', n - 1)
        local reason = 'gave up after ' .. (n - 1) .. ' attempts'
        if f[2] and f[2] ~= '' then reason = reason .. '; last: ' .. f[2] end
        redis.call('SREM', key(progress), item)
        redis.call('SREM', key(success), item)
        redis.call('SADD', key(failure), item)
        redis.call('HSET', h, 'stage', stage, 'queue', q, 'status', 'failure', 'finished_at', ts,
          'error', reason, 'result', '', 'lease', '')
        gave_up[#gave_up + 1] = item
      else
        local again = 0
        if not redis.call('ZSCORE', workers_key(stage), worker) then
          local now = now_ms()
          redis.call('ZADD', workers_key(stage), now, worker)
          redis.call('HSET', since_key(stage), worker, now)
          again = 1
        end
        local lease = tostring(redis.call('INCR', key('pvs:leases')))
        redis.call('LPUSH', proc_key(worker, q), item)
        redis.call('SADD', key(progress), item)
        redis.call('HSET', h, 'stage', stage, 'queue', q, 'status', 'running', 'started_at', ts,
          'finished_at', '', 'worker', worker, 'lease', lease)
        return {{q, item, n, lease}, gave_up, dropped, again}
      end
    end
  end
end
return {{}, gave_up, dropped, 0}
