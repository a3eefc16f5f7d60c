-- Up Migration
-- The event-store app's append in one round trip (io/event-store.ts
-- appendIdempotent): the batch arrives as one JSON array of {eventId, streamId, eventType,
-- eventTimeUs, userId, tier, data}; events whose event_id is stored already (or repeated in the
-- batch) append nothing, the others go to the end of their stream in array order.
-- The append lock is taken first, in its own statement: in READ COMMITTED each statement of a
-- VOLATILE function has a fresh snapshot, so the versions read below include every append that
-- committed before the lock was granted.
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

-- Down Migration
DROP FUNCTION es_append_idempotent(json, bigint);
