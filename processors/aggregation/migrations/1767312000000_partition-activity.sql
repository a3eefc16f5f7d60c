-- Up Migration
-- Processing time (epoch ms, the runner's clock) of the last batch with records of each
-- partition: a partition idle for AUREN_AGGREGATION_IDLE_TIMEOUT_MS does not hold back the
-- group watermark (tumbling-window.ts groupWatermarkWithIdlenessUs).
ALTER TABLE agg_offsets ADD COLUMN last_record_ms bigint;

-- Down Migration
ALTER TABLE agg_offsets DROP COLUMN last_record_ms;
