-- Up Migration
-- es_append_idempotent (io/event-store.ts appendIdempotent) parses the batch before it takes the
-- append lock: appends of several partitions parse concurrently and hold the lock, which orders
-- every append, only for the duplicate check, the version numbering and the insert.
-- Before the lock: the JSON array becomes es_append_item rows, the first of each repeated
-- event_id kept, in array order. Under the lock (in READ COMMITTED each statement of a VOLATILE
-- function has a fresh snapshot, so what it reads includes every append committed before the lock
-- was granted): events whose event_id is stored already append nothing, the others go to the end
-- of their stream in array order. work_mem is raised so the sorts of a batch (≈1 KB per event)
-- stay in memory.
CREATE TYPE es_append_item AS (
  ord        bigint,
  event_id   text,
  stream_id  text,
  event_type text,
  event_time timestamptz,
  user_id    text,
  tier       text,
  data       jsonb
);

CREATE OR REPLACE FUNCTION es_append_idempotent(events json, append_lock bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE SET work_mem = '64MB' AS $$
DECLARE
  staged es_append_item[];
  appended integer;
BEGIN
  SELECT array_agg(ROW(i.ord, i."eventId", i."streamId", i."eventType", to_timestamp(i."eventTimeUs" / 1e6), i."userId", i.tier, i.data)::es_append_item ORDER BY i.ord)
    INTO staged
    FROM (
      SELECT DISTINCT ON (t."eventId") t.*
        FROM ROWS FROM (json_to_recordset(events) AS ("eventId" text, "streamId" text, "eventType" text, "eventTimeUs" double precision, "userId" text, tier text, data jsonb))
             WITH ORDINALITY AS t("eventId", "streamId", "eventType", "eventTimeUs", "userId", tier, data, ord)
       ORDER BY t."eventId", t.ord
    ) i;
  IF staged IS NULL THEN
    RETURN 0;
  END IF;

  PERFORM pg_advisory_xact_lock(append_lock);
  INSERT INTO es_events (event_id, stream_id, stream_version, event_type, event_time, user_id, tier, data)
  SELECT s.event_id, s.stream_id,
         coalesce((SELECT max(e.stream_version) FROM es_events e WHERE e.stream_id = s.stream_id), 0)
           + row_number() OVER (PARTITION BY s.stream_id ORDER BY s.ord),
         s.event_type, s.event_time, s.user_id, s.tier, s.data
    FROM unnest(staged) AS s
   WHERE NOT EXISTS (SELECT 1 FROM es_events e WHERE e.event_id = s.event_id)
   ORDER BY s.ord;
  GET DIAGNOSTICS appended = ROW_COUNT;
  RETURN appended;
END $$;

-- Down Migration
DROP FUNCTION es_append_idempotent(json, bigint);
DROP TYPE es_append_item;
CREATE FUNCTION es_append_idempotent(events json, append_lock bigint) RETURNS integer
LANGUAGE plpgsql VOLATILE AS $$
DECLARE appended integer;
BEGIN
  PERFORM pg_advisory_xact_lock(append_lock);
  WITH input AS (
    SELECT t.*, o.ord
      FROM json_array_elements(events) WITH ORDINALITY AS o(elem, ord),
           json_to_record(o.elem) AS t("eventId" text, "streamId" text, "eventType" text, "eventTimeUs" double precision, "userId" text, tier text, data jsonb)
  ), fresh AS (
    SELECT DISTINCT ON (i."eventId") i.*
      FROM input i
     WHERE NOT EXISTS (SELECT 1 FROM es_events e WHERE e.event_id = i."eventId")
     ORDER BY i."eventId", i.ord
  ), versioned AS (
    SELECT f.*,
           coalesce((SELECT max(e.stream_version) FROM es_events e WHERE e.stream_id = f."streamId"), 0)
             + row_number() OVER (PARTITION BY f."streamId" ORDER BY f.ord) AS version
      FROM fresh f
  )
  INSERT INTO es_events (event_id, stream_id, stream_version, event_type, event_time, user_id, tier, data)
  SELECT "eventId", "streamId", version, "eventType", to_timestamp("eventTimeUs" / 1e6), "userId", tier, data
    FROM versioned
   ORDER BY ord;
  GET DIAGNOSTICS appended = ROW_COUNT;
  RETURN appended;
END $$;
