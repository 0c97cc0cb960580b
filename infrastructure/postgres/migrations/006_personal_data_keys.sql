-- Personal data protection: one data key per data subject, wrapped by the master key (which never
-- enters the database). Deleting a row is crypto-shredding: the subject's sealed fields in the event
-- log can no longer be opened. Run VACUUM on this table after erasures so the dead row's bytes go too.
create table personal_data_keys (
  subject    text primary key,          -- keyed SM3 blind index of the ID number
  wrapped    bytea not null,            -- iv(16) | SM4-CTR(data key)(32) | HMAC-SM3(32)
  created_at timestamptz not null default now()
);

-- The record of each erasure (no personal value: the subject is a keyed hash); the legal basis is
-- also carried by every ApplicantDataErased event.
create table personal_data_erasures (
  subject     text not null,
  legal_basis text not null,
  actor_id    text not null,
  key_existed boolean not null,
  erased_at   timestamptz not null default now()
);
create index personal_data_erasures_subject_idx on personal_data_erasures (subject);
