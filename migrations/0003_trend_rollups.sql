-- Rollups for trends: finished runs counted per hour and per day, per flow and per namespace,
-- with their durations in a histogram, so that a trend over a month of runs reads a few thousand
-- rows instead of every run. Plain tables on both storage paths (with or without TimescaleDB).
--
-- The histogram has logarithmic bins with a relative accuracy of 2 %: bin k holds the durations
-- in (g^(k-1), g^k] ms with g = 1.02 / 0.98, and reads back as 2 g^k / (g + 1), which is within
-- 2 % of every duration in the bin; bin -1 holds durations of 0 ms. Percentiles read from it are
-- therefore within 2 % of the exact ones. Bins merge by adding counts, so any set of flows,
-- namespaces and hours combines exactly as far as counts and pass rates go.

CREATE FUNCTION metrics.duration_bin(duration_ms bigint) RETURNS smallint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN duration_ms < 1 THEN -1
              ELSE ceil(ln(duration_ms::float8) / ln(1.02::float8 / 0.98))::smallint END
$$;

CREATE FUNCTION metrics.bin_duration(bin smallint) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
  SELECT CASE WHEN bin < 0 THEN 0::float8
              ELSE 2 * power(1.02::float8 / 0.98, bin) / (1.02::float8 / 0.98 + 1) END
$$;

-- grain is 'hour' or 'day'; bucket is the start of the hour or the UTC day.
CREATE TABLE metrics.flow_rollup (
    grain     text NOT NULL CHECK (grain IN ('hour', 'day')),
    flow_name text NOT NULL,
    namespace text NOT NULL,
    bucket    timestamptz NOT NULL,
    bin       smallint NOT NULL,
    runs      bigint NOT NULL,
    passed    bigint NOT NULL,
    PRIMARY KEY (grain, flow_name, namespace, bucket, bin)
);

CREATE TABLE metrics.namespace_rollup (
    grain     text NOT NULL CHECK (grain IN ('hour', 'day')),
    namespace text NOT NULL,
    bucket    timestamptz NOT NULL,
    bin       smallint NOT NULL,
    runs      bigint NOT NULL,
    passed    bigint NOT NULL,
    PRIMARY KEY (grain, bucket, namespace, bin)
);

-- Adds finished runs to both rollups. The rows are upserted in key order, flows first, so that
-- recorders finishing runs at the same time lock shared rows in one order and cannot deadlock.
CREATE FUNCTION metrics.roll_up(times timestamptz[], namespaces text[], flows text[],
                                statuses text[], durations bigint[]) RETURNS void
LANGUAGE sql
AS $$
  INSERT INTO metrics.flow_rollup AS r (grain, flow_name, namespace, bucket, bin, runs, passed)
  SELECT g.grain, t.flow_name, t.namespace, date_trunc(g.grain, t.time, 'UTC'),
         metrics.duration_bin(t.duration_ms), count(*), count(*) FILTER (WHERE t.status = 'passed')
  FROM unnest(times, namespaces, flows, statuses, durations)
       AS t(time, namespace, flow_name, status, duration_ms)
  CROSS JOIN (VALUES ('hour'), ('day')) AS g(grain)
  GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
  ON CONFLICT (grain, flow_name, namespace, bucket, bin)
  DO UPDATE SET runs = r.runs + EXCLUDED.runs, passed = r.passed + EXCLUDED.passed;

  INSERT INTO metrics.namespace_rollup AS r (grain, namespace, bucket, bin, runs, passed)
  SELECT g.grain, t.namespace, date_trunc(g.grain, t.time, 'UTC'),
         metrics.duration_bin(t.duration_ms), count(*), count(*) FILTER (WHERE t.status = 'passed')
  FROM unnest(times, namespaces, statuses, durations) AS t(time, namespace, status, duration_ms)
  CROSS JOIN (VALUES ('hour'), ('day')) AS g(grain)
  GROUP BY 1, 2, 3, 4 ORDER BY 1, 3, 2, 4
  ON CONFLICT (grain, bucket, namespace, bin)
  DO UPDATE SET runs = r.runs + EXCLUDED.runs, passed = r.passed + EXCLUDED.passed;
$$;

-- The one way finished runs enter the metrics: their rows, and the rollups in the same
-- transaction as the caller's.
CREATE FUNCTION metrics.record_runs(times timestamptz[], namespaces text[], flows text[],
                                    environments text[], statuses text[], durations bigint[])
RETURNS void
LANGUAGE sql
AS $$
  INSERT INTO metrics.run_metrics (time, namespace, flow_name, environment, status, duration_ms)
  SELECT * FROM unnest(times, namespaces, flows, environments, statuses, durations);
  SELECT metrics.roll_up(times, namespaces, flows, statuses, durations);
$$;

-- Runs recorded before this migration.
SELECT metrics.roll_up(array_agg(time), array_agg(namespace), array_agg(flow_name),
                       array_agg(status), array_agg(duration_ms))
FROM metrics.run_metrics;
