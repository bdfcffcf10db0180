/**
 * Lua scripts for run state. Each runs atomically in Redis, which is what makes the counters
 * exact under at-least-once delivery: an item's first terminal record wins (its bit in the `done`
 * bitmap flips 0 -> 1), later duplicates change nothing, and exactly one caller learns that the
 * run is complete and must be finalized.
 */

import { TERMINAL_RUN_STATUSES } from './run-config.js';

/**
 * A Lua function, `runIsFinal(meta)`: whether the run is finalized (its manifest written, its
 * per-item state released). Written from TERMINAL_RUN_STATUSES, so the list is kept once.
 */
const RUN_IS_FINAL_LUA = `
local function runIsFinal(meta)
  local status = redis.call('HGET', meta, 'status')
  return ${TERMINAL_RUN_STATUSES.map((status) => `status == '${status}'`).join(' or ')}
end
`;

/**
 * A Lua function, `releaseHeld(meta, index)`: gives back the budget held for an item's call (the
 * meta field `held:<index>`, set when the call's reservation was made), whichever delivery of the
 * item ends it: one that died after reserving leaves its reservation for the next to give back.
 */
const RELEASE_HELD_LUA = `
local function releaseHeld(meta, index)
  local held = redis.call('HGET', meta, 'held:' .. index)
  if not held then return end
  redis.call('HINCRBYFLOAT', meta, 'reservedUsd', -tonumber(held))
  redis.call('HDEL', meta, 'held:' .. index)
end
`;

/**
 * A Lua function, `ledgerFollowsMeta(ledger, meta)`: a shard's ledger of given-back shares expires
 * with the run's meta once the run is finalized (its meta then has a TTL): a shard that settles
 * after its run was finalized must not leave a key behind that nobody removes.
 */
const LEDGER_FOLLOWS_META_LUA = `
local function ledgerFollowsMeta(ledger, meta)
  local ttl = redis.call('PTTL', meta)
  if ttl > 0 then redis.call('PEXPIRE', ledger, ttl) end
end
`;

/**
 * A Lua function, `giveBackShare(meta, shards, ledger, shard, share)`: gives back an item's share
 * of its batch shard's reservation — never more than the stored state still holds beyond what its
 * items gave back already, nothing once the shard is done — and notes it in the shard's ledger.
 */
const GIVE_BACK_SHARE_LUA = `${LEDGER_FOLLOWS_META_LUA}
local function giveBackShare(meta, shards, ledger, shard, share)
  local current = redis.call('HGET', shards, shard)
  if not current then return end
  local stored = cjson.decode(current)
  if stored.phase == 'done' or type(stored.reservedUsd) ~= 'number' then return end
  local released = tonumber(redis.call('HGET', ledger, shard) or '0')
  local amount = math.min(tonumber(share) or 0, stored.reservedUsd - released)
  if amount <= 0 then return end
  redis.call('HINCRBYFLOAT', ledger, shard, string.format('%.17g', amount))
  ledgerFollowsMeta(ledger, meta)
  redis.call('HINCRBYFLOAT', meta, 'reservedUsd', string.format('%.17g', -amount))
end
`;

/**
 * KEYS: meta, done, records
 * ARGV: index, recordJson, status, costUsd, errorCode|'', promptTokens, outputTokens, lane
 * Returns {terminalCount | -1 when duplicate | -2 when the run is gone, complete 0|1, recordsHashLength}
 * The budget held for the item's call (RESERVE_BUDGET_LUA with its index) is given back here, in
 * the same step that adds the real cost, so the two are never counted together; whichever record
 * of the item comes, duplicates included (a delivery that died after reserving is followed by one
 * that records the item from its marker, or by the sweep).
 * A run whose meta has no config was lost (FLUSHALL, a Redis without AOF restarted): a late
 * record must not bring back part of its state, keys nobody would ever remove. A run that is
 * finalized has no `done` bitmap left to tell a duplicate by: every record then is one (a run is
 * finalized only once all its items are terminal), and counting it would count an item twice and
 * bring back the bitmap and the records without a TTL.
 */
export const RECORD_TERMINAL_LUA = `${RUN_IS_FINAL_LUA}${RELEASE_HELD_LUA}
if redis.call('HEXISTS', KEYS[1], 'config') == 0 then return {-2, 0, 0} end
releaseHeld(KEYS[1], ARGV[1])
if runIsFinal(KEYS[1]) then return {-1, 0, 0} end
local old = redis.call('SETBIT', KEYS[2], ARGV[1], 1)
if old == 1 then return {-1, 0, 0} end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
redis.call('HINCRBY', KEYS[1], 'n:' .. ARGV[3], 1)
local terminal = redis.call('HINCRBY', KEYS[1], 'terminal', 1)
if tonumber(ARGV[4]) ~= 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'costUsd', ARGV[4]) end
if ARGV[5] ~= '' then redis.call('HINCRBY', KEYS[1], 'err:' .. ARGV[5], 1) end
if tonumber(ARGV[6]) ~= 0 then redis.call('HINCRBY', KEYS[1], 'promptTokens', ARGV[6]) end
if tonumber(ARGV[7]) ~= 0 then redis.call('HINCRBY', KEYS[1], 'outputTokens', ARGV[7]) end
redis.call('HINCRBY', KEYS[1], 'lane:' .. ARGV[8], 1)
local planned = redis.call('HGET', KEYS[1], 'planned')
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '-1')
local complete = 0
if planned == '1' and terminal >= total then complete = 1 end
return {terminal, complete, redis.call('HLEN', KEYS[3])}
`;

/**
 * KEYS: meta, done, records, shards, shard-released
 * ARGV: those of RECORD_TERMINAL_LUA, then the shard's name and the item's
 * share of the shard's reservation (the last two, whatever their number)
 * RECORD_TERMINAL_LUA for an item its batch shard collected: its first record also gives back the
 * item's share of the shard's reservation, in the step that adds its real cost. Without it a big
 * batch being collected counts each recorded item twice against the budget (reserved with its
 * shard, and spent) until the shard settles, and a shard or a sync item reserving meanwhile stops
 * the run with a false E_BUDGET. What the shard's items gave back is kept per shard, never more
 * than the stored state holds and never once it is done; settling gives back the rest.
 */
export const RECORD_SHARD_ITEM_LUA =
  `${RUN_IS_FINAL_LUA}${GIVE_BACK_SHARE_LUA}
if redis.call('HEXISTS', KEYS[1], 'config') == 1 and redis.call('GETBIT', KEYS[2], ARGV[1]) == 0 and not runIsFinal(KEYS[1]) then
  giveBackShare(KEYS[1], KEYS[4], KEYS[5], ARGV[#ARGV - 1], ARGV[#ARGV])
end` + RECORD_TERMINAL_LUA;

/**
 * KEYS: meta, turns-paid, shards, shard-released
 * ARGV: '<index>:<turn>', costUsd, shard ('' for none), share
 * Adds what a turn of a multi-turn edit before the last cost (a batch wave answered it; the next
 * wave asks the next turn), once per item and turn: collecting a result file again after a crash
 * must not count the turn twice. With a shard, the item's share of its reservation is given back
 * in the same step. Nothing once the run is finalized. Returns 1 when counted now, else 0.
 */
export const COMMIT_TURN_LUA = `${RUN_IS_FINAL_LUA}${GIVE_BACK_SHARE_LUA}
if redis.call('HEXISTS', KEYS[1], 'config') == 0 or runIsFinal(KEYS[1]) then return 0 end
if redis.call('HSETNX', KEYS[2], ARGV[1], ARGV[2]) == 0 then return 0 end
if tonumber(ARGV[2]) ~= 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'costUsd', ARGV[2]) end
if ARGV[3] ~= '' then giveBackShare(KEYS[1], KEYS[3], KEYS[4], ARGV[3], ARGV[4]) end
return 1
`;

/**
 * KEYS: meta, shards, shard-released
 * ARGV: shard
 * Gives back what is left of a shard's reservation once its batch has been collected: every item
 * the batch billed is recorded (each gave back its share), so what the shard still holds is for
 * items it did not serve, about to move on to a follow-up shard or the sync lane, which reserve
 * their own. Counted as given back (settling gives back only the rest); nothing on a shard already
 * done. Safe to repeat. Returns the amount given back now, as text.
 */
export const RELEASE_SHARD_REST_LUA = `${LEDGER_FOLLOWS_META_LUA}
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current then return '0' end
local stored = cjson.decode(current)
if stored.phase == 'done' or type(stored.reservedUsd) ~= 'number' then return '0' end
local rest = stored.reservedUsd - (tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '0'))
if rest <= 0 then return '0' end
local text = string.format('%.17g', rest)
redis.call('HINCRBYFLOAT', KEYS[3], ARGV[1], text)
ledgerFollowsMeta(KEYS[3], KEYS[1])
redis.call('HINCRBYFLOAT', KEYS[1], 'reservedUsd', '-' .. text)
return text
`;

/**
 * KEYS: finalize-lock, the run's keys dropped once it is final, then those kept a while (meta first)
 * ARGV: lock token, final status, finishedAt, retainSeconds, how many keys are dropped
 * The last step of finalizing, only while the caller still holds the finalize lock: the run's
 * final status, its per-item state dropped, what is kept given a TTL. A finalizer whose lock
 * lapsed (frozen past it) and went on must not drop the records under the one that took over.
 * Returns 1 when done, 0 when the lock is not the caller's (nothing changed).
 */
export const FINISH_FINALIZE_LUA = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local dropped = tonumber(ARGV[5])
redis.call('HSET', KEYS[2 + dropped], 'status', ARGV[2], 'finishedAt', ARGV[3])
for i = 2, 1 + dropped do redis.call('DEL', KEYS[i]) end
for i = 2 + dropped, #KEYS do redis.call('EXPIRE', KEYS[i], ARGV[4]) end
return 1
`;

/**
 * KEYS: meta
 * ARGV: reason
 * Asks the run to stop; the first reason wins. Returns 1 when this call set it, 0 when a reason
 * was set before or the run is gone (no meta is made for it), 2 when the run has ended or is being
 * finalized: a stop then would change what `status` reports without changing anything else (the
 * summary is judged from what the finalizer read).
 */
export const REQUEST_STOP_LUA = `${RUN_IS_FINAL_LUA}
if redis.call('HEXISTS', KEYS[1], 'config') == 0 then return 0 end
if runIsFinal(KEYS[1]) or redis.call('HGET', KEYS[1], 'status') == 'finalizing' then return 2 end
return redis.call('HSETNX', KEYS[1], 'stop', ARGV[1])
`;

/**
 * KEYS: meta
 * ARGV: until (epoch ms)
 * The planner's lease on a run still being planned: renewed while it plans, so a planner that
 * died (SIGKILLed `bunch run`, a worker firing a schedule) can be told from a slow one. Nothing
 * once the run is planned or gone (no meta is made for it). Returns 1 when held.
 */
export const HOLD_PLANNER_LEASE_LUA = `
if redis.call('HEXISTS', KEYS[1], 'config') == 0 then return 0 end
if redis.call('HGET', KEYS[1], 'planned') == '1' or redis.call('HGET', KEYS[1], 'adopted') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'plannerUntil', ARGV[1])
return 1
`;

/**
 * KEYS: meta
 * ARGV: total, rejectedCount
 * Returns 1 when every item is already terminal (the caller must finalize), 2 when a fleet took
 * the run over (nothing changed), else 0.
 */
export const MARK_PLANNED_LUA = `
-- Taken over by a fleet when its planner's lease lapsed (ADOPT_ORPHAN_LUA): a planner that was
-- only slow must not change how the run ends.
if redis.call('HGET', KEYS[1], 'adopted') == '1' then return 2 end
redis.call('HSET', KEYS[1], 'total', ARGV[1], 'rejected', ARGV[2], 'planned', '1')
local terminal = tonumber(redis.call('HGET', KEYS[1], 'terminal') or '0')
if terminal >= tonumber(ARGV[1]) then return 1 end
return 0
`;

/**
 * KEYS: meta
 * ARGV: now (epoch ms), stop reason, note
 * Takes over a run whose planner is gone: status `planning` or `running`, not planned, and the
 * lease its planner renews while it plans lapsed before `now`. The run is stopped (first reason
 * wins) and marked `adopted`: from now on its planner can neither renew its lease nor mark it
 * planned, and the fleet settles its total once no work of the run is left (SETTLE_ADOPTED_LUA).
 * Atomic: one fleet process adopts it, however many look.
 * Returns -1 when the run is gone or planned, 0 while its planner holds the lease, 1 when adopted
 * now, 2 when adopted earlier (not settled yet).
 */
export const ADOPT_ORPHAN_LUA = `
if redis.call('HEXISTS', KEYS[1], 'config') == 0 then return -1 end
local meta = redis.call('HMGET', KEYS[1], 'planned', 'status', 'plannerUntil', 'adopted')
if meta[1] == '1' then return -1 end
if meta[4] == '1' then return 2 end
if meta[2] ~= 'running' and meta[2] ~= 'planning' then return 0 end
local untilMs = tonumber(meta[3] or '')
if untilMs == nil or untilMs >= tonumber(ARGV[1]) then return 0 end
redis.call('HSETNX', KEYS[1], 'stop', ARGV[2])
redis.call('HSET', KEYS[1], 'adopted', '1', 'status', 'running', 'planningError', ARGV[3])
return 1
`;

/**
 * KEYS: meta
 * The adopted run's last step of planning, once none of its work is left anywhere: every item it
 * handed out is recorded, so its total is what was recorded (and its rejected rows those its
 * planner had written out). Returns 1 when every item is terminal (always: finalize it), -1 when
 * the run is gone or planned already, 0 when it was not adopted.
 */
export const SETTLE_ADOPTED_LUA = `
if redis.call('HEXISTS', KEYS[1], 'config') == 0 then return -1 end
local meta = redis.call('HMGET', KEYS[1], 'planned', 'adopted', 'terminal', 'rejectedNoted', 'rejectedPartsNoted')
if meta[1] == '1' then return -1 end
if meta[2] ~= '1' then return 0 end
redis.call('HSET', KEYS[1], 'total', meta[3] or '0', 'rejected', meta[4] or '0', 'planned', '1')
if tonumber(meta[5] or '0') > 0 then redis.call('HSET', KEYS[1], 'rejectedParts', meta[5]) end
return 1
`;

/**
 * A Lua function, `fitsBudget(meta, amount, limit)`: whether `amount` more still fits the run's
 * budget. Reserved, spent and uncertain (calls whose outcome is unknown: they may have been billed)
 * all count. Shared by every script that reserves, so the rule is written once.
 */
const FITS_BUDGET_LUA = `
local function fitsBudget(meta, amount, limit)
  local reserved = tonumber(redis.call('HGET', meta, 'reservedUsd') or '0')
  local spent = tonumber(redis.call('HGET', meta, 'costUsd') or '0')
  local uncertain = tonumber(redis.call('HGET', meta, 'uncertainUsd') or '0')
  return spent + reserved + uncertain + amount <= limit + 1e-9
end
`;

/**
 * KEYS: meta, done
 * ARGV: amountUsd, limitUsd, item index
 * Reserves budget for one call of an item. Returns 1 when reserved, 0 when it would exceed the
 * limit, 2 when the item is terminal already (or its run finalized): another record of it landed
 * after this delivery looked, so the call would be paid for nothing, and a reservation made now
 * would be held until the run's meta expires should this delivery die (nothing records the item
 * again to give it back). The reservation is held for the item (`held:<index>`) until its call is
 * settled (SETTLE_CALL_LUA) or the item recorded; one an earlier delivery left (it died) is given
 * back first.
 */
export const RESERVE_BUDGET_LUA = `${FITS_BUDGET_LUA}${RELEASE_HELD_LUA}${RUN_IS_FINAL_LUA}
releaseHeld(KEYS[1], ARGV[3])
if runIsFinal(KEYS[1]) or redis.call('GETBIT', KEYS[2], ARGV[3]) == 1 then return 2 end
if not fitsBudget(KEYS[1], tonumber(ARGV[1]), tonumber(ARGV[2])) then return 0 end
redis.call('HINCRBYFLOAT', KEYS[1], 'reservedUsd', ARGV[1])
redis.call('HSET', KEYS[1], 'held:' .. ARGV[3], ARGV[1])
return 1
`;

/**
 * KEYS: meta
 * ARGV: item index, costUsd, uncertainUsd
 * Settles an item's call that is retried: what was held for it is given back, and what the call
 * cost (an answer, paid though unusable) or may have cost (an outcome unknown) is added. One step,
 * so another worker never sees the call counted twice or not at all.
 */
export const SETTLE_CALL_LUA = `${RELEASE_HELD_LUA}
releaseHeld(KEYS[1], ARGV[1])
if tonumber(ARGV[2]) ~= 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'costUsd', ARGV[2]) end
if tonumber(ARGV[3]) ~= 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'uncertainUsd', ARGV[3]) end
return 1
`;

/**
 * KEYS: lock
 * ARGV: token
 * Deletes the lock only when it still holds this caller's token.
 */
export const RELEASE_LOCK_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

/**
 * KEYS: batches (the set of shards holding an upstream batch slot)
 * ARGV: shard, limit
 * Returns 1 when the shard holds a slot (it had one already, or one was free), else 0.
 */
export const ACQUIRE_SLOT_LUA = `
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 1 then return 1 end
if redis.call('SCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('SADD', KEYS[1], ARGV[1])
  return 1
end
return 0`;

/**
 * KEYS: meta, shards, batches, shard-released
 * ARGV: shard, final state JSON
 * Settles a batch shard once: its final state written, its slot freed and the budget reservation
 * the *stored* state holds given back (not the caller's copy: a salvager may have read the shard
 * before its delivery reserved), less what its collected items gave back already
 * (RECORD_SHARD_ITEM_LUA). A shard already done, or gone with its run's keys, is left as it
 * is (returns {0}): a step repeated after a crash, or a second process salvaging the same failed
 * shard job, gives nothing back twice. Returns {1, the state it replaced}, so the settler can act
 * on what the stored state knew and it did not (an upstream batch).
 */
export const SETTLE_SHARD_LUA = `
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current then return {0} end
local stored = cjson.decode(current)
if stored.phase == 'done' then return {0} end
local amount = (tonumber(stored.reservedUsd) or 0) - (tonumber(redis.call('HGET', KEYS[4], ARGV[1]) or '0'))
if amount > 0 then redis.call('HINCRBYFLOAT', KEYS[1], 'reservedUsd', string.format('%.17g', -amount)) end
redis.call('HDEL', KEYS[4], ARGV[1])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
redis.call('SREM', KEYS[3], ARGV[1])
return {1, current}
`;

/**
 * KEYS: meta, shards
 * ARGV: shard, amount, limit, state JSON holding the reservation
 * Reserves a batch shard's budget once, and writes the state that holds the reservation in the
 * same step (a process dying in between would hold budget nobody gives back). Returns
 * {1} reserved and written; {2, amount} the stored state holds a reservation already (a second
 * delivery of the same job: nothing reserved, nothing written); {3} over budget (nothing written);
 * {0} the shard is done; {4} it is gone (its run's keys with it).
 */
export const RESERVE_SHARD_LUA = `${FITS_BUDGET_LUA}
local amount = tonumber(ARGV[2])
if amount == nil or amount ~= amount or amount < 0 then return redis.error_reply('reserve: bad amount ' .. ARGV[2]) end
local current = redis.call('HGET', KEYS[2], ARGV[1])
if not current then return {4} end
local stored = cjson.decode(current)
if stored.phase == 'done' then return {0} end
if type(stored.reservedUsd) == 'number' then return {2, string.format('%.17g', stored.reservedUsd)} end
if not fitsBudget(KEYS[1], amount, tonumber(ARGV[3])) then return {3} end
redis.call('HINCRBYFLOAT', KEYS[1], 'reservedUsd', ARGV[2])
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
return {1}
`;

/**
 * KEYS: shards
 * ARGV: shard, state JSON
 * Writes a shard's state unless it is done already (returns 0: done is final — a delivery that
 * lost its BullMQ lock but runs on must not turn a shard another process settled back into one
 * that holds a reservation), or unless the write is behind the stored state (returns 2): an
 * earlier phase, or a state without the reservation the stored one holds. Two deliveries of one
 * job hold copies read at different times; the one behind must not make the shard forget its
 * reservation or its batch, and goes on from the stored state instead.
 */
export const WRITE_SHARD_STATE_LUA = `
local current = redis.call('HGET', KEYS[1], ARGV[1])
if current then
  local stored = cjson.decode(current)
  if stored.phase == 'done' then return 0 end
  local order = { planned = 1, submitting = 2, submitted = 3, collecting = 4, done = 5 }
  local written = cjson.decode(ARGV[2])
  if (order[written.phase] or 0) < (order[stored.phase] or 0) then return 2 end
  if type(stored.reservedUsd) == 'number' and type(written.reservedUsd) ~= 'number' then return 2 end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`;

/**
 * KEYS: claim
 * ARGV: token, ttlMs
 * Takes an output claim when it is free. Returns {1, token, ttl} when taken, else {0, holder, pttl}.
 */
export const TAKE_CLAIM_LUA = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return {1, ARGV[1], tonumber(ARGV[2])} end
return {0, redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1])}
`;

/**
 * KEYS: claim
 * ARGV: token, ttlMs
 * Extends the claim only while it still holds this caller's token. Returns 1 when extended.
 */
export const RENEW_CLAIM_LUA = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/**
 * KEYS: meta, done
 * ARGV: status, lane, index...
 * Counts records already written to a storage segment (planning's skips: no cost, no tokens, no
 * error): each index's bit flips 0 -> 1 at most once, as in RECORD_TERMINAL_LUA, without keeping
 * the records in Redis. Returns {added | -2 when the run is gone, complete 0|1}.
 */
export const RECORD_STORED_SEGMENT_LUA = `
if redis.call('HEXISTS', KEYS[1], 'config') == 0 then return {-2, 0} end
local added = 0
for i = 3, #ARGV do
  if redis.call('SETBIT', KEYS[2], ARGV[i], 1) == 0 then added = added + 1 end
end
if added == 0 then return {0, 0} end
redis.call('HINCRBY', KEYS[1], 'n:' .. ARGV[1], added)
redis.call('HINCRBY', KEYS[1], 'lane:' .. ARGV[2], added)
local terminal = redis.call('HINCRBY', KEYS[1], 'terminal', added)
local planned = redis.call('HGET', KEYS[1], 'planned')
local total = tonumber(redis.call('HGET', KEYS[1], 'total') or '-1')
local complete = 0
if planned == '1' and terminal >= total then complete = 1 end
return {added, complete}
`;

/**
 * KEYS: meta, done, claim
 * ARGV: index, token, ttlMs
 * What a sync delivery looks at before anything else, in one round trip: the item's terminal bit,
 * the run's control fields, and the output claim, taken when free (as TAKE_CLAIM_LUA). The claim
 * key is not a run key; on Redis Cluster it shares their slot because bunch's prefix must carry a
 * hash tag there (assert-topology-fits.ts), which puts every key of the prefix in one slot.
 * Returns {bit, status|nil, stop|nil, quotaUntil|nil, taken 0|1, holder, ttl}.
 */
export const BEGIN_DELIVERY_LUA = `
local bit = redis.call('GETBIT', KEYS[2], ARGV[1])
local control = redis.call('HMGET', KEYS[1], 'status', 'stop', 'quotaUntil')
if redis.call('SET', KEYS[3], ARGV[2], 'NX', 'PX', ARGV[3]) then
  return {bit, control[1], control[2], control[3], 1, ARGV[2], tonumber(ARGV[3])}
end
return {bit, control[1], control[2], control[3], 0, redis.call('GET', KEYS[3]) or '', redis.call('PTTL', KEYS[3])}
`;

/**
 * KEYS: meta, done, records, claim
 * ARGV: those of RECORD_TERMINAL_LUA, then the claim's token (the last one, whatever their number)
 * RECORD_TERMINAL_LUA that first frees the delivery's output claim (only while it still holds
 * this token): the outputs and their marker are stored, or the item failed, so the claim has done
 * its job. One round trip at the end of every item instead of two. Same slot as BEGIN_DELIVERY_LUA.
 */
export const RELEASE_CLAIM_AND_RECORD_LUA =
  `
if redis.call('GET', KEYS[4]) == ARGV[#ARGV] then redis.call('DEL', KEYS[4]) end` + RECORD_TERMINAL_LUA;

/**
 * KEYS: meta
 * Takes the next record segment number, or -2 when the run is gone (nothing is created).
 */
export const NEXT_SEGMENT_LUA = `
if redis.call('HEXISTS', KEYS[1], 'config') == 0 then return -2 end
return redis.call('HINCRBY', KEYS[1], 'segments', 1)
`;

/** The scripts above as ioredis commands (defined once per connection by RunStore). */
export type RunScripts = {
  bunchRecordTerminal(meta: string, done: string, records: string, ...args: string[]): Promise<[number, number, number]>;
  bunchRecordShardItem(meta: string, done: string, records: string, shards: string, shardReleased: string, ...args: string[]): Promise<[number, number, number]>;
  bunchMarkPlanned(meta: string, total: string, rejected: string): Promise<number>;
  bunchNextSegment(meta: string): Promise<number>;
  bunchRecordStoredSegment(meta: string, done: string, status: string, lane: string, ...indexes: string[]): Promise<[number, number]>;
  bunchReserveBudget(meta: string, done: string, amount: string, limit: string, index: string): Promise<number>;
  bunchFinishFinalize(...keysAndArgs: string[]): Promise<number>;
  bunchRequestStop(meta: string, reason: string): Promise<number>;
  bunchHoldPlannerLease(meta: string, until: string): Promise<number>;
  bunchAdoptOrphan(meta: string, now: string, reason: string, note: string): Promise<number>;
  bunchSettleAdopted(meta: string): Promise<number>;
  bunchSettleCall(meta: string, index: string, costUsd: string, uncertainUsd: string): Promise<number>;
  bunchAcquireSlot(batches: string, shard: string, limit: string): Promise<number>;
  bunchSettleShard(meta: string, shards: string, batches: string, shardReleased: string, shard: string, state: string): Promise<[number, string?]>;
  bunchCommitTurn(meta: string, turnsPaid: string, shards: string, shardReleased: string, field: string, cost: string, shard: string, share: string): Promise<number>;
  bunchReleaseShardRest(meta: string, shards: string, shardReleased: string, shard: string): Promise<string>;
  bunchReserveShard(meta: string, shards: string, shard: string, amount: string, limit: string, state: string): Promise<[number, string?]>;
  bunchWriteShardState(shards: string, shard: string, state: string): Promise<0 | 1 | 2>;
  bunchReleaseLock(lock: string, token: string): Promise<number>;
  bunchTakeClaim(claim: string, token: string, ttlMs: string): Promise<[number, string, number]>;
  bunchRenewClaim(claim: string, token: string, ttlMs: string): Promise<number>;
  bunchBeginDelivery(
    meta: string,
    done: string,
    claim: string,
    index: string,
    token: string,
    ttlMs: string,
  ): Promise<[number, string | null, string | null, string | null, number, string, number]>;
  bunchReleaseClaimAndRecord(meta: string, done: string, records: string, claim: string, ...args: string[]): Promise<[number, number, number]>;
};
