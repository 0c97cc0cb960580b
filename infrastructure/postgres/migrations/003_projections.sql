-- Where each projection stands in the global log. Written in the same transaction as the read-model
-- change, so a crash never skips an event or applies one twice.
create table projection_checkpoints (
  name        text primary key,
  position    text,
  tx_id       xid8 not null default '0',
  pos         bigint not null default 0,
  events      bigint not null default 0,
  table_suffix text not null default '',
  updated_at  timestamptz not null default now()
);
