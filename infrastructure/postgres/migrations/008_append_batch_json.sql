-- govcase_append_batch: the batch append of 004 with the same checks and the same result rows, cheaper
-- per append (measured in docs/benchmarks.md, "#2: group commit, second pass"):
-- 1. The events of a batch come as ONE jsonb array of {a, r, i, t, d, m, h, p} (append index,
--    revision, event id, type, data, metadata, hash, previous hash) instead of eight parallel arrays,
--    two of them jsonb[] literals: the client no longer escapes every quote of every event into an
--    array literal, and the server parses one document instead of an array literal and then each
--    element.
-- 2. Plans that do not depend on the size of the tables. A function's statements get generic plans,
--    made on the session's first call; 004's were made while the tables were small and kept a hash
--    join over a sequential scan of `streams` (and the duplicate check below would seq-scan
--    `commands`), so every batch read the whole table. Every lookup here is by primary key, so
--    sequential scans, hash and merge joins are turned off for this function only.
-- 3. New and existing streams are checked in one statement; the conflict query runs only when an
--    append lost; the duplicate lookup first asks one index scan whether any command is known.
-- Unchanged: each append keeps its own idempotency check (a recorded command answers 'duplicate')
-- and its own version check (INSERT … ON CONFLICT DO NOTHING for a new stream, UPDATE … WHERE
-- version = expected otherwise; a racing duplicate blocks on the stream row, then loses and finds
-- the first result), the winners' events in one INSERT, their command records with the positions they
-- got, all in the caller's one transaction. 004's govcase_append stays (an older node may still call
-- it during a rolling upgrade).
create function govcase_append_batch(
  p_streams text[], p_expected bigint[], p_commands text[], p_head_hashes text[], p_counts int[], p_events jsonb
) returns table (
  r_idx int, r_outcome text, r_stream text, r_from bigint, r_to bigint, r_position bigint, r_tx text, r_recorded_at timestamptz
) language plpgsql
set plan_cache_mode = force_generic_plan
set enable_seqscan = off
set enable_hashjoin = off
set enable_mergejoin = off
as $$
declare
  n int := coalesce(cardinality(p_streams), 0);
  dups int[] := '{}';
  won int[];
begin
  -- 1. idempotency: a command already recorded answers with its first result
  if exists (select 1 from commands c where c.command_id = any(p_commands) and c.position is not null) then
    select coalesce(array_agg(a.i::int), '{}') into dups
      from unnest(p_commands) with ordinality as a(cmd, i)
      join commands c on c.command_id = a.cmd and c.position is not null;
    return query
      select a.i::int, 'duplicate'::text, c.stream_id, c.from_revision, c.to_revision, c.position, c.tx_id::text, c.recorded_at
        from unnest(p_commands) with ordinality as a(cmd, i)
        join commands c on c.command_id = a.cmd and c.position is not null;
  end if;

  -- 2. the version checks; the rows returned are the winners
  with b as (
    select u.s, u.e, u.c, u.h, u.i::int as i
      from unnest(p_streams, p_expected, p_counts, p_head_hashes) with ordinality as u(s, e, c, h, i)
     where not (u.i::int = any(dups))
  ), ins as (
    insert into streams (stream_id, version, hash)
    select b.s, b.c - 1, b.h from b where b.e = -1 order by b.s
    on conflict do nothing
    returning stream_id
  ), upd as (
    update streams s
       set version = b.e + b.c, hash = b.h, updated_at = now()
      from b
     where b.e >= 0 and s.stream_id = b.s and s.version = b.e
    returning b.i
  )
  select coalesce(array_agg(x.i), '{}') into won
    from (select array_position(p_streams, ins.stream_id) as i from ins union all select upd.i from upd) x;

  if cardinality(won) + cardinality(dups) < n then
    return query
      select u.i::int, 'conflict'::text, u.s, null::bigint, coalesce(s.version, -1), null::bigint, null::text, null::timestamptz
        from unnest(p_streams) with ordinality as u(s, i)
        left join streams s on s.stream_id = u.s
       where not (u.i::int = any(dups)) and not (u.i::int = any(won));
  end if;

  if cardinality(won) = 0 then
    return;
  end if;

  -- 3. the winners' events, in the order given, and their command records
  return query
  with ins as (
    insert into events (stream_id, revision, event_id, type, data, metadata, hash, previous_hash)
    select p_streams[u.a], u.r, u.i, u.t, u.d, u.m, u.h, u.p
      from rows from (jsonb_to_recordset(p_events) as (a int, r bigint, i uuid, t text, d jsonb, m jsonb, h text, p text))
           with ordinality as u(a, r, i, t, d, m, h, p, ord)
     where cardinality(won) = n or u.a = any(won)
     order by u.ord
    returning events.stream_id, events.revision, events.position, events.tx_id, events.recorded_at
  ), per_append as (
    select ins.stream_id, array_position(p_streams, ins.stream_id) as idx, min(ins.revision) as from_rev,
           max(ins.revision) as to_rev, max(ins.position) as last_pos, min(ins.tx_id::text) as tx, min(ins.recorded_at) as at
      from ins group by ins.stream_id
  ), recorded as (
    insert into commands (command_id, stream_id, from_revision, to_revision, position, tx_id, recorded_at)
    select p_commands[pa.idx], pa.stream_id, pa.from_rev, pa.to_rev, pa.last_pos, pa.tx::xid8, pa.at
      from per_append pa where p_commands[pa.idx] is not null
    on conflict do nothing
  )
  select array_position(p_streams, ins.stream_id), 'ok'::text, ins.stream_id, ins.revision, ins.revision, ins.position,
         ins.tx_id::text, ins.recorded_at
    from ins order by ins.position;
  -- no NOTIFY here (see 004): the adapter notifies after the commit
end $$;
