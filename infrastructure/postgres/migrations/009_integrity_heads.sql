-- Every stream's head (revision, hash) as of the newest integrity checkpoint, so the checkpointer
-- streams them (keyset pages in stream-id order) instead of holding them all in a server's memory.
-- Written only by the checkpointer, under a transaction-level advisory lock, in the same transaction
-- that covers the checkpoint's append; not trusted: each checkpoint recomputes the previous one's
-- signed Merkle root from these rows and rebuilds them from the log when it differs
-- (application/integrity.ts, `CheckpointHeads`). "C" collation: code point order, the leaves' order.
create table integrity_heads (
  stream_id text collate "C" primary key,
  revision  bigint not null,
  hash      text not null
);
