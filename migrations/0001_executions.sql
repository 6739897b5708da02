-- Runs and their steps. A run is one row from the moment it is queued; its id is unique, so a
-- replayed or reclaimed message can never make a second row.
CREATE SCHEMA IF NOT EXISTS executions;

CREATE TABLE executions.runs (
    run_id         text PRIMARY KEY,
    namespace      text NOT NULL,
    flow_name      text NOT NULL,
    generation     bigint NOT NULL DEFAULT 0,
    spec           jsonb NOT NULL,
    environment    text,
    trigger        text NOT NULL
                   CHECK (trigger IN ('schedule', 'annotation', 'change', 'manual')),
    trigger_detail jsonb,
    status         text NOT NULL
                   CHECK (status IN ('queued', 'running', 'passed', 'failed', 'error',
                                     'cancelled', 'timed_out')),
    queued_at      timestamptz NOT NULL,
    started_at     timestamptz,
    finished_at    timestamptz,
    duration_ms    bigint,
    passed_steps   int,
    failed_steps   int,
    skipped_steps  int,
    error          text,
    executor_id    text,
    attempt        int NOT NULL DEFAULT 0
);

CREATE INDEX runs_flow_queued ON executions.runs (namespace, flow_name, queued_at DESC);
CREATE INDEX runs_status_queued ON executions.runs (status, queued_at DESC);
CREATE INDEX runs_queued ON executions.runs (queued_at DESC);

-- One row per try of a step (a step retried twice has attempts 1, 2 and 3).
CREATE TABLE executions.steps (
    run_id      text NOT NULL REFERENCES executions.runs (run_id) ON DELETE CASCADE,
    step_index  int NOT NULL,
    attempt     int NOT NULL,
    step_id     text NOT NULL,
    name        text,
    action      text NOT NULL,
    phase       text NOT NULL CHECK (phase IN ('setup', 'main', 'teardown')),
    status      text NOT NULL,
    started_at  timestamptz NOT NULL,
    duration_ms bigint NOT NULL,
    assertions  jsonb,
    captured    jsonb,
    request     jsonb,
    response    jsonb,
    error       text,
    PRIMARY KEY (run_id, step_index, attempt)
);
