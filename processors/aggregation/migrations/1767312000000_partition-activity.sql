-- Up Migration
-- Idleness of a partition for the group watermark (tumbling-window.ts
-- groupWatermarkWithIdlenessUs): processing time (epoch ms, the runner's clock) of its last batch
-- with records, and whether that batch reached the log end offset it was fetched with (a
-- partition with a backlog is never idle). first_record_ms: when the group applied its first
-- record; partitions never written count as idle once the idle timeout has passed since then.
ALTER TABLE agg_offsets ADD COLUMN last_record_ms bigint, ADD COLUMN caught_up boolean;
ALTER TABLE agg_window_emission ADD COLUMN first_record_ms bigint;

-- Down Migration
ALTER TABLE agg_window_emission DROP COLUMN first_record_ms;
ALTER TABLE agg_offsets DROP COLUMN last_record_ms, DROP COLUMN caught_up;
