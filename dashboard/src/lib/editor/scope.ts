// What an assertion or a `when` of a step may name, for completion: the fields of the step's own
// result (by action), and the variables in scope there: the flow's env, earlier steps' ids and
// captures, and the builtins.

import type { FlowSpec, SpecStep } from "../types";
import { type StepPath } from "./document";
import { nestedLists } from "./graph";

const RESULT_FIELDS: Record<string, string[]> = {
  http_request: ["status", "body", "headers", "cookies", "duration_ms", "content_type", "url"],
  database_query: ["rows", "row_count", "rows_affected", "first_row"],
  db_poll: ["rows", "row_count", "first_row"],
  grpc: ["status", "body", "metadata", "duration_ms"],
  websocket: ["messages", "count", "closed"],
};

const BUILTINS = ["UUID", "RANDOM_ID", "TIMESTAMP", "ISO_TIMESTAMP", "DATE"];

/** Result fields of an action's step. */
export function resultFields(action: string): string[] {
  return RESULT_FIELDS[action] ?? (action.includes("consume") || action.includes("subscribe") || action.includes("xread") ? ["messages", "count"] : ["value", "data"]);
}

function visit(steps: SpecStep[] | undefined, listPath: StepPath, stop: string, names: string[]): boolean {
  for (const [index, step] of (steps ?? []).entries()) {
    const path = [...listPath, index];
    if (JSON.stringify(path) === stop) return true;
    for (const list of nestedLists(step)) {
      if (visit(list.steps, [...path, ...list.path], stop, names)) return true;
    }
    if (step.id) names.push(step.id);
    names.push(...Object.keys(step.output ?? {}));
  }
  return false;
}

/** The names a step at `path` may use: env, earlier steps and captures, builtins. */
export function namesInScope(spec: FlowSpec, path: StepPath): string[] {
  const names = [...Object.keys(spec.env ?? {})];
  const stop = JSON.stringify(path);
  for (const list of ["setup", "steps", "teardown"] as const) {
    if (visit(spec[list], [list], stop, names)) break;
  }
  return [...new Set([...names, ...BUILTINS])];
}

/** Completions for an assertion of the step at `path`. */
export function assertionCompletions(spec: FlowSpec, path: StepPath, action: string): string[] {
  return [...resultFields(action), ...namesInScope(spec, path)];
}
