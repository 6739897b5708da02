import { flowGraph } from "@/lib/flow-graph";
import { mergeStep } from "@/lib/queries";
import type { ExecutionStep, FlowSpec } from "@/lib/types";

const spec: FlowSpec = {
  name: "Checkout",
  setup: [{ action: "mock_server_start" }],
  steps: [{ id: "create", name: "Create cart", action: "http_request" }, { action: "http_request" }],
  teardown: [{ action: "mock_server_stop" }],
};

function result(phase: ExecutionStep["phase"], stepId: string, status: ExecutionStep["status"], attempt = 1, durationMs = 10): ExecutionStep {
  return { stepIndex: 0, stepId, name: null, action: "x", phase, status, attempt, startedAt: null, durationMs, assertions: [], captured: {}, request: null, response: null, error: null };
}

describe("flowGraph", () => {
  it("draws one node per step in run order, one lane per phase, chained by edges", () => {
    const { nodes, edges } = flowGraph(spec);
    const steps = nodes.filter((n) => n.type === "step");
    expect(steps.map((n) => n.id)).toEqual(["setup/setup_1", "main/create", "main/step_2", "teardown/teardown_1"]);
    expect(nodes.filter((n) => n.type === "lane").map((n) => n.data.label)).toEqual(["Setup", "Steps", "Teardown"]);
    expect(edges.map((e) => `${e.source}>${e.target}`)).toEqual(["setup/setup_1>main/create", "main/create>main/step_2", "main/step_2>teardown/teardown_1"]);
    const xs = steps.map((n) => n.position.x);
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(new Set(steps.map((n) => n.position.y)).size).toBe(3);
  });

  it("shows each step's last attempt from the last run", () => {
    const { nodes } = flowGraph(spec, [result("main", "create", "failed", 1, 40), result("main", "create", "passed", 2, 55), result("main", "step_2", "failed")]);
    const create = nodes.find((n) => n.id === "main/create")!;
    expect(create.data).toMatchObject({ label: "Create cart", status: "passed", durationMs: 55 });
    expect(nodes.find((n) => n.id === "main/step_2")!.data.status).toBe("failed");
    expect(nodes.find((n) => n.id === "setup/setup_1")!.data.status).toBeNull();
  });
});

describe("mergeStep", () => {
  it("replaces a streamed step attempt and keeps the steps in order", () => {
    const a = { ...result("main", "a", "running"), stepIndex: 0 };
    const b = { ...result("main", "b", "passed"), stepIndex: 1 };
    const merged = mergeStep(mergeStep([b], a), { ...a, status: "passed" });
    expect(merged.map((s) => `${s.stepId}:${s.status}`)).toEqual(["a:passed", "b:passed"]);
  });
});
