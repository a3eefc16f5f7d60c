-- Up Migration
-- The event store (seed 002 Module A; processors/event-store/README.md): every
-- enriched event appended once, in an append-only table with a global sequence and a version
-- per stream (the trace), optimistic concurrency on append, LISTEN/NOTIFY on append.

CREATE TABLE es_events (
  global_seq      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id        text    NOT NULL UNIQUE,
  stream_id       text    NOT NULL,
  stream_version  integer NOT NULL CHECK (stream_version >= 1),
  event_type      text    NOT NULL,
  event_time      timestamptz NOT NULL,
  user_id         text,
  tier            text,
  data            jsonb   NOT NULL,
  recorded_at     timestamptz NOT NULL DEFAULT now(),
  UNIQUE (stream_id, stream_version)
);
CREATE INDEX es_events_user ON es_events (user_id, global_seq);

-- Append-only, enforced by the database: UPDATE, DELETE and TRUNCATE raise.
CREATE FUNCTION es_events_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'es_events is append-only: % refused', TG_OP USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER es_events_no_update BEFORE UPDATE OR DELETE ON es_events
  FOR EACH ROW EXECUTE FUNCTION es_events_refuse_change();
CREATE TRIGGER es_events_no_truncate BEFORE TRUNCATE ON es_events
  FOR EACH STATEMENT EXECUTE FUNCTION es_events_refuse_change();

-- One notification per appending statement on channel 'auren_es_append', payload '<schema>:<highest
-- global_seq appended>'; listeners catch up with "events after <their last seq>".
CREATE FUNCTION es_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE top bigint;
BEGIN
  SELECT max(global_seq) INTO top FROM appended;
  IF top IS NOT NULL THEN PERFORM pg_notify('auren_es_append', TG_TABLE_SCHEMA || ':' || top::text); END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER es_events_notify AFTER INSERT ON es_events
  REFERENCING NEW TABLE AS appended FOR EACH STATEMENT EXECUTE FUNCTION es_events_notify();

-- Every read of the event store through the API: who, what, when.
CREATE TABLE es_read_audit (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  read_at     timestamptz NOT NULL DEFAULT now(),
  subject     text NOT NULL,
  roles       text[] NOT NULL,
  route       text NOT NULL,
  stream_id   text,
  after_seq   bigint,
  rows        integer NOT NULL
);

-- Down Migration
DROP TABLE es_read_audit;
DROP TABLE es_events;
DROP FUNCTION es_events_notify();
DROP FUNCTION es_events_refuse_change();
