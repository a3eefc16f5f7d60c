-- Up Migration
-- The archive manifest (processors/archival/README.md "Manifest"): the source of truth for which
-- objects of the bucket make up the archive and which input offsets they hold. Readers
-- (`auren query`) read the live objects from here, never from a bucket listing, so a half-written
-- flush, a superseded batch or the inputs of a compaction are never seen next to their
-- replacement.

-- Per input partition: the next offset to archive. Records below it are archived already and
-- are dropped from any later flush (a redelivery after a crash).
CREATE TABLE archive_partitions (
  topic        text    NOT NULL,
  "partition"  integer NOT NULL,
  next_offset  bigint  NOT NULL,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, "partition")
);

-- Archived offset ranges: one row per flush, [first_offset, next_offset) of one partition.
CREATE TABLE archive_batches (
  topic         text    NOT NULL,
  "partition"   integer NOT NULL,
  first_offset  bigint  NOT NULL,
  next_offset   bigint  NOT NULL,
  rows          integer NOT NULL,
  object_keys   text[]  NOT NULL,
  archived_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (topic, "partition", first_offset),
  CHECK (next_offset > first_offset)
);

-- Objects: live ones form the archive; superseded ones (compaction inputs) and expired ones
-- (retention) wait for deletion from the bucket; the row goes once the object is deleted.
CREATE TABLE archive_objects (
  key             text    PRIMARY KEY,
  date            date    NOT NULL,
  hour            integer NOT NULL CHECK (hour BETWEEN 0 AND 23),
  tier            text    NOT NULL,
  kind            text    NOT NULL CHECK (kind IN ('batch', 'compacted')),
  rows            integer NOT NULL,
  bytes           bigint  NOT NULL,
  min_event_time  timestamptz NOT NULL,
  max_event_time  timestamptz NOT NULL,
  state           text    NOT NULL DEFAULT 'live' CHECK (state IN ('live', 'superseded', 'expired')),
  created_at      timestamptz NOT NULL DEFAULT now(),
  retired_at      timestamptz
);
CREATE INDEX archive_objects_hour ON archive_objects (date, hour, tier) WHERE state = 'live';
CREATE INDEX archive_objects_retired ON archive_objects (retired_at) WHERE state <> 'live';

-- Down Migration
DROP TABLE archive_objects;
DROP TABLE archive_batches;
DROP TABLE archive_partitions;
