import { fireEvent, render, screen } from "@testing-library/react";
import catalogueJson from "./fixtures/actions.json";
import { StepForm } from "@/components/editor/properties";
import { type ActionCatalogue, formFields, newStep, paletteGroups } from "@/lib/editor/catalogue";
import { useEditorStore } from "@/lib/editor/store";

// The catalogue exactly as GET /api/v1/actions serves it (a Rust test keeps this copy current).
const catalogue = catalogueJson as unknown as ActionCatalogue;
const action = (name: string) => catalogue.actions.find((a) => a.name === name)!;

describe("forms generated from the action catalogue", () => {
  it.each(catalogue.actions.map((a) => [a.name, a] as const))("%s gets one typed field per config key, required first", (_, info) => {
    const fields = formFields(info);
    const keys = info.keys.filter((k) => !info.nestedStepKeys.includes(k.name));
    expect(fields.map((f) => f.key).sort()).toEqual(keys.map((k) => k.name).sort());
    const firstOptional = fields.findIndex((f) => !f.required);
    if (firstOptional >= 0) expect(fields.slice(firstOptional).every((f) => !f.required)).toBe(true);
    for (const field of fields) {
      const key = info.keys.find((k) => k.name === field.key)!;
      const expected = { flag: "checkbox", count: "number", text: "text", duration: "text" }[key.type as string] ?? "yaml";
      expect(field.input, `${info.name}.${field.key}`).toBe(expected);
      expect(field.help).toContain(key.doc);
    }
  });

  it("names alternatives and what the environment supplies", () => {
    const query = formFields(action("database_query"));
    const connection = query.find((f) => f.key === "connection")!;
    expect(connection.required).toBe(false);
    expect(connection.help).toMatch(/`dsn`/);
    expect(connection.help).toMatch(/environment/);
    expect(query.find((f) => f.key === "query")!.required).toBe(true);
    const http = formFields(action("http_request"));
    expect(http[0]).toMatchObject({ key: "url", required: true, input: "text" });
    expect(http.find((f) => f.key === "follow_redirects")!.input).toBe("checkbox");
  });

  it("starts a new step with its required keys", () => {
    expect(newStep(action("http_request"), "http_request")).toEqual({ id: "http_request", action: "http_request", config: { url: "" } });
    expect(newStep(action("for_each"), "loop").config).toMatchObject({ steps: [] });
  });

  it("groups the palette and searches names, aliases and descriptions", () => {
    const all = paletteGroups(catalogue, "");
    expect(all.map((g) => g.label)).toEqual([
      "HTTP & API",
      "Databases & storage",
      "Messaging",
      "Metrics, logs & traces",
      "Control flow",
      "Mocks",
      "Utilities",
    ]);
    expect(all.flatMap((g) => g.actions).length).toBe(catalogue.actions.length);
    expect(paletteGroups(catalogue, "rabbitmq").flatMap((g) => g.actions.map((a) => a.name))).toEqual(["amqp.publish", "amqp.consume"]);
    expect(paletteGroups(catalogue, "zzz")).toEqual([]);
  });

  it("renders the selected step's form and reports each edit with its field", () => {
    useEditorStore.getState().load("name: t\nsteps:\n  - id: ping\n    action: http_request\n    config: {url: http://a/}\n    assert: [status == 200]\n");
    useEditorStore.getState().setReport({
      valid: false,
      flows: 1,
      errors: 1,
      warnings: 0,
      diagnostics: [{ severity: "error", message: "expected an expression", line: 6, column: 14, step: "ping", field: "steps[0].assert[0]", stepPath: "steps[0]", stepField: "assert[0]" }],
    });
    const edits: unknown[][] = [];
    render(<StepForm path={["steps", 0]} catalogue={catalogue} onEdit={(...args) => edits.push(args)} onMove={() => {}} onDuplicate={() => {}} onDelete={() => {}} pickedCapture={null} />);
    expect(screen.getByLabelText("config.url")).toHaveValue("http://a/");
    expect(screen.getByLabelText("assert[0]")).toHaveValue("status == 200");
    expect(screen.getByText("expected an expression")).toBeInTheDocument();
    fireEvent.change(screen.getByLabelText("config.url"), { target: { value: "http://b/" } });
    fireEvent.click(screen.getByLabelText("config.follow_redirects"));
    expect(edits).toEqual([
      [["steps", 0], ["config", "url"], "http://b/"],
      [["steps", 0], ["config", "follow_redirects"], true],
    ]);
  });
});
