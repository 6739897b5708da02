-- One row per finished run, for trends. Plain table with a BRIN index on time; when TimescaleDB
-- is available the store turns it into a hypertable at start (see src/store/timescale.rs).
CREATE SCHEMA IF NOT EXISTS metrics;

CREATE TABLE metrics.run_metrics (
    time        timestamptz NOT NULL,
    namespace   text NOT NULL,
    flow_name   text NOT NULL,
    environment text,
    status      text NOT NULL,
    duration_ms bigint NOT NULL
);

CREATE INDEX run_metrics_time_brin ON metrics.run_metrics USING brin (time);
CREATE INDEX run_metrics_flow_time ON metrics.run_metrics (namespace, flow_name, time DESC);
