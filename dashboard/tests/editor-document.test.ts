import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { duplicateStep, insertStep, moveStep, parseFlow, pathKey, parsePathKey, removeStep, setField, stepIds } from "@/lib/editor/document";
import { flowFile, manifest } from "@/lib/editor/export";
import { editorGraph, nestedLists, type EditorNodeData } from "@/lib/editor/graph";
import { TEMPLATES } from "@/lib/editor/templates";
import type { FlowSpec, SpecStep } from "@/lib/types";

const EXAMPLES = join(__dirname, "../../examples");

/** Every flow of the repository's examples: flow files in both spellings, and the TestFlow manifest. */
function exampleFlows(): [string, string][] {
  const files = readdirSync(EXAMPLES)
    .filter((f) => f.endsWith(".yaml"))
    .map((f) => join(EXAMPLES, f));
  files.push(join(EXAMPLES, "manifests/testflow.yaml"));
  return files
    .map((file): [string, string] => [file.slice(EXAMPLES.length + 1), readFileSync(file, "utf8")])
    .filter(([, text]) => /^\s*steps:/m.test(text));
}

function comments(text: string): string[] {
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("#"));
}

function countSteps(steps: SpecStep[] | undefined): number {
  return (steps ?? []).reduce((sum, step) => sum + 1 + nestedLists(step).reduce((n, list) => n + countSteps(list.steps), 0), 0);
}

function flowValue(text: string): unknown {
  const parsed = parseFlow(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.flow.spec;
}

describe.each(exampleFlows())("the editor on %s", (_, text) => {
  it("draws every step, nested ones inside their container", () => {
    const parsed = parseFlow(text);
    expect(parsed.ok).toBe(true);
    if (!parsed.ok) return;
    const spec = parsed.flow.spec;
    const { nodes } = editorGraph(spec);
    const steps = nodes.filter((n) => n.type === "editorStep");
    expect(steps).toHaveLength(countSteps(spec.setup) + countSteps(spec.steps) + countSteps(spec.teardown));
    for (const node of steps) {
      const data = node.data as EditorNodeData;
      expect(node.id).toBe(pathKey(data.path));
      expect(parsePathKey(node.id)).toEqual(data.path);
      if (data.path.length > 2) expect(node.parentId).toBeDefined();
    }
  });

  it("round-trips YAML → graph edits → YAML with nothing lost and comments kept", () => {
    const parsed = parseFlow(text);
    if (!parsed.ok) throw new Error(parsed.error);
    const before = parsed.flow.spec;
    const first = (before.steps ?? [])[0];
    // Rename, move last-to-first and back, duplicate and remove the copy, add and remove a step.
    let edited = setField(text, ["steps", 0], ["name"], "Renamed in the editor");
    edited = setField(edited, ["steps", 0], ["name"], first?.name ?? undefined);
    const last = (before.steps ?? []).length - 1;
    edited = moveStep(edited, ["steps", last], ["steps"], 0);
    edited = moveStep(edited, ["steps", 0], ["steps"], last);
    edited = duplicateStep(edited, ["steps", 0]);
    edited = removeStep(edited, ["steps", 1]);
    edited = insertStep(edited, ["steps"], -1, { id: "added", action: "log", config: { message: "hi" } });
    edited = removeStep(edited, ["steps", last + 1]);
    expect(flowValue(edited)).toEqual(before);
    for (const comment of comments(text)) expect(edited).toContain(comment);
  });

  it("exports a flow file and a TestFlow manifest that keep the flow and its comments", () => {
    const parsed = parseFlow(text);
    if (!parsed.ok) throw new Error(parsed.error);
    const file = flowFile(text);
    expect(flowValue(file)).toEqual(parsed.flow.spec);
    const out = manifest(text, { namespace: "qa", name: "", environment: "staging", schedule: "0 6 * * *", timeZone: "UTC" });
    const [flow, schedule] = out.split(/^---$/m).map((doc) => parse(doc));
    expect(flow.kind).toBe("TestFlow");
    expect(flow.metadata.namespace).toBe("qa");
    expect(flow.spec.environmentRef).toEqual({ name: "staging" });
    expect(flow.spec.steps).toHaveLength(parsed.flow.spec.steps.length);
    const snake = /^(max_attempts|on_error|max_delay|fail_fast|data_source|env_file)$/;
    const keys = [flow.spec, flow.spec.config ?? {}, ...["setup", "steps", "teardown"].flatMap((list) => (flow.spec[list] ?? []).flatMap((step: Record<string, object>) => [step, step.retry ?? {}]))].flatMap(Object.keys);
    expect(keys.filter((key) => snake.test(key))).toEqual([]);
    expect(schedule.kind).toBe("TestSchedule");
    expect(schedule.spec.flowRef.name).toBe(flow.metadata.name);
    const stepComments = comments(text).filter((c) => text.indexOf(c) > text.search(/^\s*steps:/m) && text.search(/^\s*steps:/m) >= 0);
    for (const comment of stepComments) expect(out).toContain(comment);
  });
});

describe("editing a flow", () => {
  const text = `# head comment
name: t
steps:
  - id: a # keep me
    action: log
    config: {message: one}
  - id: b
    action: condition
    config:
      if: "true"
      then:
        - id: inner
          action: log
          config: {message: two}
`;

  it("adds steps into nested lists and gives duplicates fresh ids", () => {
    let edited = insertStep(text, ["steps", 1, "config", "else"], 0, { id: "other", action: "log" });
    edited = duplicateStep(edited, ["steps", 0]);
    const spec = flowValue(edited) as FlowSpec;
    expect(spec.steps.map((s) => s.id)).toEqual(["a", "a_2", "b"]);
    expect((spec.steps[2].config as { else: SpecStep[] }).else[0].id).toBe("other");
    expect([...stepIds(spec)]).toEqual(expect.arrayContaining(["inner", "other"]));
    expect(edited).toContain("# keep me");
    expect(edited).toContain("# head comment");
  });

  it("grows an empty flow-style list of steps as a block", () => {
    const edited = insertStep("name: t\nsteps: []\n", ["steps"], -1, { id: "a", action: "log" });
    expect(edited).toBe("name: t\nsteps:\n  - id: a\n    action: log\n");
  });

  it("types into a placeholder without its quotes", () => {
    const edited = setField("name: t\nsteps:\n  - action: log\n    config: {message: \"\"}\n", ["steps", 0], ["config", "message"], "hello");
    expect(edited).toContain("message: hello");
  });

  it("sets and clears fields, removing a map left empty", () => {
    let edited = setField(text, ["steps", 0], ["retry", "max_attempts"], 3);
    expect((flowValue(edited) as { steps: Record<string, unknown>[] }).steps[0].retry).toEqual({ max_attempts: 3 });
    edited = setField(edited, ["steps", 0], ["retry", "max_attempts"], undefined);
    expect((flowValue(edited) as { steps: Record<string, unknown>[] }).steps[0].retry).toBeUndefined();
  });

  it("reports invalid YAML with its line and leaves the text alone on edits", () => {
    const broken = "name: x\nsteps: [\n";
    const parsed = parseFlow(broken);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.line).toBeGreaterThan(0);
    expect(setField(broken, [], ["name"], "y")).toBe(broken);
  });

  it("offers templates that parse as flows", () => {
    for (const template of TEMPLATES) {
      const parsed = parseFlow(template.yaml);
      expect(parsed.ok, template.id).toBe(true);
      if (parsed.ok) expect(parsed.flow.spec.steps.length).toBeGreaterThan(0);
    }
  });
});
