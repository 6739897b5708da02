-- Draft runs: runs of an unsaved spec the flow editor sent (`POST /api/v1/runs`), recorded like
-- any other run and marked so that the executions list can say so and the flows list, built from
-- the runs when no cluster is known, does not take them for TestFlows.
ALTER TABLE executions.runs
    ADD COLUMN draft boolean NOT NULL DEFAULT false;
