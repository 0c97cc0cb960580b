-- The event log. `position` is assigned at insert, not at commit, so readers order by
-- (tx_id, position) and only read transactions older than every one still running
-- (pg_snapshot_xmin): a late commit can never be skipped. See docs/event-store.md.
create table events (
  position      bigint generated always as identity primary key,
  tx_id         xid8 not null default pg_current_xact_id(),
  stream_id     text not null,
  revision      bigint not null,
  event_id      uuid not null,
  type          text not null,
  data          jsonb not null,
  metadata      jsonb not null,
  hash          text not null,
  previous_hash text,
  recorded_at   timestamptz not null default now(),
  constraint events_stream_revision unique (stream_id, revision),
  constraint events_event_id unique (event_id)
);
create index events_tx_position on events (tx_id, position);

-- One row per stream: its version and head hash; the optimistic check is an UPDATE … WHERE version = expected.
create table streams (
  stream_id  text primary key,
  version    bigint not null,
  hash       text not null,
  updated_at timestamptz not null default now()
);

-- Idempotency: a racing duplicate blocks on this primary key until the first commits, then reads its result.
create table commands (
  command_id    text primary key,
  stream_id     text not null,
  from_revision bigint,
  to_revision   bigint,
  position      bigint,
  tx_id         xid8,
  recorded_at   timestamptz not null default now()
);

-- Append-only at the database level.
create function govcase_refuse_change() returns trigger language plpgsql as $$
begin
  raise exception 'govcase: the event log is append-only (% on %)', tg_op, tg_table_name using errcode = '42501';
end $$;
create trigger events_append_only before update or delete on events
  for each row execute function govcase_refuse_change();
create trigger events_no_truncate before truncate on events
  for each statement execute function govcase_refuse_change();

-- A batch of appends (group commit) in one statement and one transaction. Each append keeps its
-- own idempotency and version check; a loser is reported, the winners commit.
-- Returns one row per appended event ('ok'), or one row per refused append ('conflict', 'duplicate').
create function govcase_append(
  p_streams text[], p_expected bigint[], p_commands text[], p_head_hashes text[], p_counts int[],
  e_append int[], e_revisions bigint[], e_ids uuid[], e_types text[], e_data jsonb[], e_meta jsonb[],
  e_hashes text[], e_previous text[]
) returns table (
  r_idx int, r_outcome text, r_stream text, r_from bigint, r_to bigint, r_position bigint, r_tx text, r_recorded_at timestamptz
) language plpgsql as $$
declare
  n int := coalesce(array_length(p_streams, 1), 0);
  won int[] := '{}';
  i int;
  cur bigint;
begin
  for i in 1..n loop
    if p_commands[i] is not null then
      insert into commands (command_id, stream_id) values (p_commands[i], p_streams[i]) on conflict do nothing;
      if not found then
        return query select i, 'duplicate'::text, c.stream_id, c.from_revision, c.to_revision, c.position, c.tx_id::text, c.recorded_at
          from commands c where c.command_id = p_commands[i];
        continue;
      end if;
    end if;
    if p_expected[i] = -1 then
      insert into streams (stream_id, version, hash) values (p_streams[i], p_counts[i] - 1, p_head_hashes[i])
        on conflict do nothing;
    else
      update streams s set version = p_expected[i] + p_counts[i], hash = p_head_hashes[i], updated_at = now()
        where s.stream_id = p_streams[i] and s.version = p_expected[i];
    end if;
    if not found then
      select s.version into cur from streams s where s.stream_id = p_streams[i];
      if p_commands[i] is not null then
        delete from commands c where c.command_id = p_commands[i];
      end if;
      return query select i, 'conflict'::text, p_streams[i], null::bigint, coalesce(cur, -1), null::bigint, null::text, null::timestamptz;
      continue;
    end if;
    won := won || i;
  end loop;

  if array_length(won, 1) is null then
    return;
  end if;

  return query
  with ins as (
    insert into events (stream_id, revision, event_id, type, data, metadata, hash, previous_hash)
    select p_streams[u.a], u.rev, u.id, u.t, u.d, u.m, u.h, u.p
      from unnest(e_append, e_revisions, e_ids, e_types, e_data, e_meta, e_hashes, e_previous)
           with ordinality as u(a, rev, id, t, d, m, h, p, ord)
     where u.a = any(won)
     order by u.ord
    returning events.stream_id, events.revision, events.position, events.tx_id, events.recorded_at
  ), per_append as (
    select ins.stream_id, min(ins.revision) as from_rev, max(ins.revision) as to_rev, max(ins.position) as last_pos, min(ins.tx_id::text) as tx
      from ins group by ins.stream_id
  ), recorded as (
    update commands c set from_revision = pa.from_rev, to_revision = pa.to_rev, position = pa.last_pos, tx_id = pa.tx::xid8
      from per_append pa
     where c.stream_id = pa.stream_id and c.command_id = any(p_commands) and c.position is null
  )
  select array_position(p_streams, ins.stream_id), 'ok'::text, ins.stream_id, ins.revision, ins.revision, ins.position,
         ins.tx_id::text, ins.recorded_at
    from ins order by ins.position;

  perform pg_notify('govcase_' || current_schema(), '');
end $$;
