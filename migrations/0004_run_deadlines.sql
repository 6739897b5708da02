-- The limits of a queued run, so that the operator can tell a run the queue lost from one still
-- waiting or running, and enqueue it again with the message it had: the time after which it must
-- not start (every run has one), and its own time limit once started (when the flow sets one).
ALTER TABLE executions.runs
    ADD COLUMN start_deadline  timestamptz,
    ADD COLUMN timeout_seconds bigint;
