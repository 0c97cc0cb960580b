-- Who read what (auditor and supervisor reads of personal data), and every refused request
-- (UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED). Both are written in batches off the request path
-- (infrastructure/integrity/auditLog.ts). Integrity checkpoints need no table: they are events of the
-- system stream `system-integrity-checkpoints`.
create table access_audit (
  id             bigint generated always as identity primary key,
  at             timestamptz not null,
  actor_id       text not null,
  actor_role     text not null,
  operation      text not null,           -- the query: stream, events, case, caseAt, …
  target         text,                    -- the stream / case / cursor read
  source_address text,
  request_id     text,
  client_app     text
);
create index access_audit_at on access_audit (at desc);
create index access_audit_actor on access_audit (actor_id, at desc);
create index access_audit_target on access_audit (target, at desc);

-- Refusals, aggregated: one row per (window, who, what, why, from where) with a count, so a flood
-- adds one row per window, not one per request.
create table security_events (
  id             bigint generated always as identity primary key,
  window_start   timestamptz not null,
  first_at       timestamptz not null,
  last_at        timestamptz not null,
  count          bigint not null,
  code           text not null,           -- UNAUTHENTICATED, FORBIDDEN, RATE_LIMITED
  actor          text not null,           -- the principal, a token fingerprint, or 'anonymous'
  actor_role     text,
  operation      text not null,
  reason         text not null,
  source_address text not null,
  request_id     text,                    -- the first refused request of the window
  constraint security_events_window unique (window_start, code, actor, operation, reason, source_address)
);
create index security_events_last on security_events (last_at desc);
