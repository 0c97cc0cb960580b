-- Serials of the 办件编号, per region and filing day. Outside the event transaction: a failed
-- submission leaves a gap in the serials, never a duplicate number.
create table case_number_serials (
  region_code text not null,
  day         date not null,
  last_serial integer not null,
  primary key (region_code, day)
);
