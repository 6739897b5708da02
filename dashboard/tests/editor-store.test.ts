import { nodeMarks } from "@/components/editor/canvas";
import { useEditorStore } from "@/lib/editor/store";

const first = "name: a\nsteps:\n  - action: log\n    config: {message: one}\n";

describe("the editor's state", () => {
  beforeEach(() => useEditorStore.getState().load(first));

  it("undoes and redoes whole edits, typing in one field within a second counting once", () => {
    const store = useEditorStore.getState();
    store.setText(first.replace("one", "o"), "message");
    store.setText(first.replace("one", "on"), "message");
    store.setText(first.replace("name: a", "name: b"));
    expect(useEditorStore.getState().past).toHaveLength(2);
    useEditorStore.getState().undo();
    expect(useEditorStore.getState().text).toBe(first.replace("one", "on"));
    useEditorStore.getState().undo();
    expect(useEditorStore.getState().text).toBe(first);
    useEditorStore.getState().redo();
    expect(useEditorStore.getState().spec.steps[0].config).toEqual({ message: "on" });
  });

  it("keeps the last flow that parsed while the YAML is broken", () => {
    useEditorStore.getState().setText("name: a\nsteps: [\n");
    const state = useEditorStore.getState();
    expect(state.parseError?.message).toBeTruthy();
    expect(state.parseError?.line).toBeGreaterThan(0);
    expect(state.goodText).toBe(first);
    expect(state.spec.steps).toHaveLength(1);
  });

  it("marks nodes with their findings and a draft run's status", () => {
    const spec = useEditorStore.getState().spec;
    const marks = nodeMarks(
      [
        { severity: "error", message: "unknown action", stepPath: "steps[0]", stepField: "action" },
        { severity: "warning", message: "BASE_URL must come from an environment", stepPath: "steps[0]", stepField: "config.url" },
        { severity: "error", message: "`name` is required", stepPath: null, stepField: null },
      ],
      new Map([["step_1", "passed"]]),
      spec,
    );
    expect(marks.get("steps[0]")).toEqual({ errors: ["action: unknown action"], warnings: ["config.url: BASE_URL must come from an environment"], status: "passed" });
    expect(marks.size).toBe(1);
  });
});
