-- The trend rollup of all flows together: per hour and UTC day, the finished runs of every
-- namespace in one duration histogram (the bins of migrations/0003_trend_rollups.sql), so that
-- a trend of everything reads one row per bucket and bin instead of one per namespace too. Kept
-- by metrics.roll_up with the other two, from the same runs.

CREATE TABLE metrics.all_rollup (
    grain  text NOT NULL CHECK (grain IN ('hour', 'day')),
    bucket timestamptz NOT NULL,
    bin    smallint NOT NULL,
    runs   bigint NOT NULL,
    passed bigint NOT NULL,
    PRIMARY KEY (grain, bucket, bin)
);

-- As in 0003, with the rollup of all flows last: recorders lock shared rows in one order.
CREATE OR REPLACE FUNCTION metrics.roll_up(times timestamptz[], namespaces text[], flows text[],
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

  INSERT INTO metrics.all_rollup AS r (grain, bucket, bin, runs, passed)
  SELECT g.grain, date_trunc(g.grain, t.time, 'UTC'), metrics.duration_bin(t.duration_ms),
         count(*), count(*) FILTER (WHERE t.status = 'passed')
  FROM unnest(times, statuses, durations) AS t(time, status, duration_ms)
  CROSS JOIN (VALUES ('hour'), ('day')) AS g(grain)
  GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
  ON CONFLICT (grain, bucket, bin)
  DO UPDATE SET runs = r.runs + EXCLUDED.runs, passed = r.passed + EXCLUDED.passed;
$$;

-- Runs recorded before this migration, from the namespace rollup that already counts them.
INSERT INTO metrics.all_rollup (grain, bucket, bin, runs, passed)
SELECT grain, bucket, bin, sum(runs), sum(passed)
FROM metrics.namespace_rollup
GROUP BY grain, bucket, bin;
