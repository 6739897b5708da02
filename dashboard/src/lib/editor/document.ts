// The flow editor's source of truth: the YAML text, edited through the `yaml` package's Document
// API so that every canvas or form edit changes only the nodes it touches and keeps comments,
// key order and formatting elsewhere. A flow may be a flow file (fields at the top, or under
// `flow:`) or a TestFlow manifest (under `spec:`); step paths are relative to the flow, as the
// validator's `stepPath` writes them (`steps[1].config.then[0]`).

import { type Document, isMap, isScalar, isSeq, parseDocument, type ParsedNode, type Scalar, stringify, type YAMLMap, YAMLSeq } from "yaml";
import type { FlowSpec, SpecStep } from "../types";

/** A step's place: the list and index of each level, e.g. ["steps", 1, "config", "then", 0]. */
export type StepPath = (string | number)[];

export interface ParsedFlow {
  doc: Document.Parsed<ParsedNode>;
  /** Where the flow's fields are: [] (top level), ["flow"] or ["spec"] (TestFlow manifest). */
  root: string[];
  spec: FlowSpec;
}

export type ParseResult = { ok: true; flow: ParsedFlow } | { ok: false; error: string; line: number | null };

/** Reads `text`; a YAML error is returned with its line, never thrown. */
export function parseFlow(text: string): ParseResult {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) {
    const error = doc.errors[0];
    return { ok: false, error: error.message.split("\n")[0], line: error.linePos?.[0]?.line ?? null };
  }
  const contents = doc.contents;
  if (contents !== null && !isMap(contents)) {
    return { ok: false, error: "A flow is a map with `name` and `steps`", line: 1 };
  }
  let root: string[] = [];
  if (contents && doc.get("kind") === "TestFlow") root = ["spec"];
  else if (contents && isMap(doc.get("flow", true))) root = ["flow"];
  const value = root.length > 0 ? doc.getIn(root) : contents;
  const spec = (isMap(value) ? value.toJSON() : {}) as FlowSpec;
  return { ok: true, flow: { doc, root, spec } };
}

/** `["steps", 1, "config", "then", 0]` → `steps[1].config.then[0]`, the validator's stepPath. */
export function pathKey(path: StepPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? part : `.${part}`;
  }
  return out;
}

/** The inverse of [`pathKey`]. */
export function parsePathKey(key: string): StepPath {
  const path: StepPath = [];
  for (const segment of key.split(".")) {
    const match = /^([^[]+)((?:\[\d+\])*)$/.exec(segment);
    if (!match) return [];
    path.push(match[1]);
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) path.push(Number(index[1]));
  }
  return path;
}

/** The step at `path` of a spec, or undefined. */
export function stepAt(spec: FlowSpec, path: StepPath): SpecStep | undefined {
  let value: unknown = spec;
  for (const part of path) {
    if (value === null || typeof value !== "object") return undefined;
    value = (value as Record<string | number, unknown>)[part];
  }
  return value && typeof value === "object" && "action" in value ? (value as SpecStep) : undefined;
}

/** The steps of the list at `listPath` of a spec (empty when there is none). */
export function stepsAt(spec: FlowSpec, listPath: StepPath): SpecStep[] {
  let value: unknown = spec;
  for (const part of listPath) value = value && typeof value === "object" ? (value as Record<string | number, unknown>)[part] : undefined;
  return Array.isArray(value) ? (value as SpecStep[]) : [];
}

function edit(text: string, change: (flow: ParsedFlow) => void): string {
  const parsed = parseFlow(text);
  if (!parsed.ok) return text;
  change(parsed.flow);
  return parsed.flow.doc.toString({ lineWidth: 0 });
}

function listAt(flow: ParsedFlow, listPath: StepPath, create: boolean): YAMLSeq | null {
  const full = [...flow.root, ...listPath];
  const found = flow.doc.getIn(full, true);
  if (isSeq(found)) return found;
  if (!create) return null;
  const seq = new YAMLSeq();
  flow.doc.setIn(full, seq);
  return flow.doc.getIn(full, true) as YAMLSeq;
}

/** Inserts `step` into the list at `listPath` (created when missing) at `index` (the end when -1). */
export function insertStep(text: string, listPath: StepPath, index: number, step: SpecStep): string {
  return edit(text, (flow) => {
    const seq = listAt(flow, listPath, true);
    if (!seq) return;
    const at = index < 0 || index > seq.items.length ? seq.items.length : index;
    seq.items.splice(at, 0, flow.doc.createNode(step));
    // A list of steps grows as a block (`steps: []` would otherwise stay on one line).
    seq.flow = false;
  });
}

function split(path: StepPath): { list: StepPath; index: number } {
  return { list: path.slice(0, -1), index: Number(path[path.length - 1]) };
}

/** Removes the step at `path`; an emptied `setup` or `teardown` goes too. */
export function removeStep(text: string, path: StepPath): string {
  return edit(text, (flow) => {
    const { list, index } = split(path);
    const seq = listAt(flow, list, false);
    if (!seq) return;
    seq.items.splice(index, 1);
    if (seq.items.length === 0 && list.length === 1 && (list[0] === "setup" || list[0] === "teardown")) {
      flow.doc.deleteIn([...flow.root, list[0]]);
    }
  });
}

/** Moves the step at `path` to `index` of the list at `toList`, keeping its comments. */
export function moveStep(text: string, path: StepPath, toList: StepPath, index: number): string {
  return edit(text, (flow) => {
    const { list, index: from } = split(path);
    const source = listAt(flow, list, false);
    if (!source || from >= source.items.length) return;
    const [node] = source.items.splice(from, 1);
    const target = listAt(flow, toList, true);
    if (!target) return;
    const at = index < 0 || index > target.items.length ? target.items.length : index;
    target.items.splice(at, 0, node);
  });
}

/** Every step id of a spec, nested ones included. */
export function stepIds(spec: FlowSpec): Set<string> {
  const ids = new Set<string>();
  const visit = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === "object") {
      const record = value as Record<string, unknown>;
      if (typeof record.id === "string" && "action" in record) ids.add(record.id);
      Object.values(record).forEach(visit);
    }
  };
  visit([spec.setup, spec.steps, spec.teardown]);
  return ids;
}

/** The path of the top-level step a run reports as `stepId` (its id, or `step_N` counted from 1). */
export function pathOfStepId(spec: FlowSpec, stepId: string): StepPath | null {
  for (const [list, prefix] of [["setup", "setup"], ["steps", "step"], ["teardown", "teardown"]] as const) {
    const index = (spec[list] ?? []).findIndex((step, i) => (step.id ?? `${prefix}_${i + 1}`) === stepId);
    if (index >= 0) return [list, index];
  }
  return null;
}

/** `base`, or `base_2`, `base_3`... whichever no step has yet. */
export function uniqueId(spec: FlowSpec, base: string): string {
  const ids = stepIds(spec);
  const stem = base.replace(/_\d+$/, "").replace(/[^A-Za-z0-9_]/g, "_") || "step";
  if (!ids.has(stem)) return stem;
  for (let n = 2; ; n++) if (!ids.has(`${stem}_${n}`)) return `${stem}_${n}`;
}

/** Inserts a copy of `step` (with a fresh id) after `path`, or at the end of `listPath`. */
export function pasteStep(text: string, listPath: StepPath, index: number, step: SpecStep): string {
  const parsed = parseFlow(text);
  if (!parsed.ok) return text;
  const copy: SpecStep = { ...step };
  if (copy.id) copy.id = uniqueId(parsed.flow.spec, copy.id);
  return insertStep(text, listPath, index, copy);
}

/** Duplicates the step at `path` right after it, comments included, with a fresh id. */
export function duplicateStep(text: string, path: StepPath): string {
  return edit(text, (flow) => {
    const { list, index } = split(path);
    const seq = listAt(flow, list, false);
    const node = seq?.items[index];
    if (!seq || !isMap(node)) return;
    const copy = node.clone() as YAMLMap;
    const id = copy.get("id");
    if (typeof id === "string") copy.set("id", uniqueId(flow.spec, id));
    seq.items.splice(index + 1, 0, copy);
  });
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === "" || (Array.isArray(value) && value.length === 0);
}

/** Sets (or, for an empty value, removes) a field under the step at `path` (or the flow: []). */
export function setField(text: string, path: StepPath, field: StepPath, value: unknown): string {
  return edit(text, (flow) => {
    const full = [...flow.root, ...path, ...field];
    if (isEmpty(value)) {
      if (flow.doc.hasIn(full)) flow.doc.deleteIn(full);
      const parent = full.slice(0, -1);
      const left = flow.doc.getIn(parent, true);
      if (field.length > 1 && isMap(left) && left.items.length === 0) flow.doc.deleteIn(parent);
      return;
    }
    const before = flow.doc.getIn(full, true);
    const placeholder = isScalar(before) && before.value === "";
    flow.doc.setIn(full, value);
    // A placeholder `""` keeps its quotes otherwise; a value typed into it need not.
    const after = flow.doc.getIn(full, true);
    if (placeholder && isScalar(after)) (after as Scalar).type = undefined;
  });
}

/** The spec of a flow as a new flow file's YAML. */
export function specToYaml(spec: FlowSpec): string {
  return stringify(spec, { lineWidth: 0 });
}
