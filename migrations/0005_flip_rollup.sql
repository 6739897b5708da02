-- Rollups for flaky flows: per flow and per hour and UTC day, the finished runs that count for
-- flakiness (cancelled ones do not), how many passed, how many times the outcome flipped between
-- consecutive runs inside the bucket, and the outcomes of its first and last run. Buckets chain:
-- the flips over a window are the flips inside its buckets plus one at each boundary where a
-- bucket's last outcome differs from the next bucket's first, so `/flaky` reads a few rows per
-- flow and day instead of every run, and its counts stay exact. Runs are ordered by start time,
-- a run that did not pass before one that passed at the same instant.
--
-- A run can finish after one that started later, so a bucket cannot be kept by adding to it: the
-- recorder recomputes every hour a batch touches from the runs of that hour, then every day it
-- touches from the day's hours.

CREATE TABLE metrics.flow_flips (
    grain        text NOT NULL CHECK (grain IN ('hour', 'day')),
    flow_name    text NOT NULL,
    namespace    text NOT NULL,
    bucket       timestamptz NOT NULL,
    runs         bigint NOT NULL,
    passed       bigint NOT NULL,
    flips        bigint NOT NULL,
    first_passed boolean NOT NULL,
    last_passed  boolean NOT NULL,
    PRIMARY KEY (grain, flow_name, namespace, bucket)
);

CREATE INDEX flow_flips_grain_bucket ON metrics.flow_flips (grain, bucket);

-- Recomputes the buckets that runs at these times of these flows fall in. The first statement
-- creates and locks every such bucket, in key order: a second recorder of the same hour waits
-- for the first one to commit, and its next statements (each with a fresh snapshot, this being a
-- volatile function) count the first one's runs too.
CREATE FUNCTION metrics.roll_up_flips(times timestamptz[], namespaces text[], flows text[],
                                      statuses text[]) RETURNS void
LANGUAGE sql
AS $$
  INSERT INTO metrics.flow_flips AS f
    (grain, flow_name, namespace, bucket, runs, passed, flips, first_passed, last_passed)
  SELECT DISTINCT g.grain, t.flow_name, t.namespace, date_trunc(g.grain, t.time, 'UTC'),
         0::int8, 0::int8, 0::int8, false, false
  FROM unnest(times, namespaces, flows, statuses) AS t(time, namespace, flow_name, status)
  CROSS JOIN (VALUES ('hour'), ('day')) AS g(grain)
  WHERE t.status <> 'cancelled'
  ORDER BY 1, 2, 3, 4
  ON CONFLICT (grain, flow_name, namespace, bucket) DO UPDATE SET runs = f.runs;

  UPDATE metrics.flow_flips AS f
  SET runs = s.runs, passed = s.passed, flips = s.flips,
      first_passed = s.first_passed, last_passed = s.last_passed
  FROM (
    SELECT k.namespace, k.flow_name, k.bucket, count(*) AS runs,
           count(*) FILTER (WHERE m.passed) AS passed,
           count(*) FILTER (WHERE m.previous <> m.passed) AS flips,
           (array_agg(m.passed ORDER BY m.time, m.passed))[1] AS first_passed,
           (array_agg(m.passed ORDER BY m.time DESC, m.passed DESC))[1] AS last_passed
    FROM (SELECT DISTINCT t.namespace, t.flow_name, date_trunc('hour', t.time, 'UTC') AS bucket
          FROM unnest(times, namespaces, flows, statuses) AS t(time, namespace, flow_name, status)
          WHERE t.status <> 'cancelled') AS k
    CROSS JOIN LATERAL (
      SELECT r.time, r.status = 'passed' AS passed,
             lag(r.status = 'passed') OVER (ORDER BY r.time, r.status = 'passed') AS previous
      FROM metrics.run_metrics r
      WHERE r.namespace = k.namespace AND r.flow_name = k.flow_name
        AND r.time >= k.bucket AND r.time < k.bucket + interval '1 hour'
        AND r.status <> 'cancelled') AS m
    GROUP BY k.namespace, k.flow_name, k.bucket) AS s
  WHERE f.grain = 'hour' AND f.flow_name = s.flow_name AND f.namespace = s.namespace
    AND f.bucket = s.bucket;

  UPDATE metrics.flow_flips AS f
  SET runs = s.runs, passed = s.passed, flips = s.flips,
      first_passed = s.first_passed, last_passed = s.last_passed
  FROM (
    SELECT k.namespace, k.flow_name, k.bucket, sum(h.runs)::int8 AS runs,
           sum(h.passed)::int8 AS passed,
           sum(h.flips)::int8 + count(*) FILTER (WHERE h.previous <> h.first_passed) AS flips,
           (array_agg(h.first_passed ORDER BY h.bucket))[1] AS first_passed,
           (array_agg(h.last_passed ORDER BY h.bucket DESC))[1] AS last_passed
    FROM (SELECT DISTINCT t.namespace, t.flow_name, date_trunc('day', t.time, 'UTC') AS bucket
          FROM unnest(times, namespaces, flows, statuses) AS t(time, namespace, flow_name, status)
          WHERE t.status <> 'cancelled') AS k
    CROSS JOIN LATERAL (
      SELECT x.bucket, x.runs, x.passed, x.flips, x.first_passed, x.last_passed,
             lag(x.last_passed) OVER (ORDER BY x.bucket) AS previous
      FROM metrics.flow_flips x
      WHERE x.grain = 'hour' AND x.namespace = k.namespace AND x.flow_name = k.flow_name
        AND x.bucket >= k.bucket AND x.bucket < k.bucket + interval '24 hours'
        AND x.runs > 0) AS h
    GROUP BY k.namespace, k.flow_name, k.bucket) AS s
  WHERE f.grain = 'day' AND f.flow_name = s.flow_name AND f.namespace = s.namespace
    AND f.bucket = s.bucket;
$$;

CREATE OR REPLACE FUNCTION metrics.record_runs(times timestamptz[], namespaces text[],
                                               flows text[], environments text[],
                                               statuses text[], durations bigint[])
RETURNS void
LANGUAGE sql
AS $$
  INSERT INTO metrics.run_metrics (time, namespace, flow_name, environment, status, duration_ms)
  SELECT * FROM unnest(times, namespaces, flows, environments, statuses, durations);
  SELECT metrics.roll_up(times, namespaces, flows, statuses, durations);
  SELECT metrics.roll_up_flips(times, namespaces, flows, statuses);
$$;

-- Runs recorded before this migration.
SELECT metrics.roll_up_flips(array_agg(time), array_agg(namespace), array_agg(flow_name),
                             array_agg(status))
FROM metrics.run_metrics;
