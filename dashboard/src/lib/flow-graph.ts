// Turns a flow definition (and, when there is one, its last run) into React Flow nodes and edges:
// one lane (row) per phase — setup, steps, teardown — and every step one column further right
// than the one before it, so the edges always run forward, from lane to lane.

import type { Edge, Node } from "@xyflow/react";
import type { ExecutionStep, FlowSpec, Phase, SpecStep } from "./types";

export interface StepNodeData extends Record<string, unknown> {
  label: string;
  action: string;
  phase: Phase;
  status: string | null;
  durationMs: number | null;
  assertions: number;
}

export interface LaneNodeData extends Record<string, unknown> {
  label: string;
}

const COLUMN = 230;
const ROW = 130;
const LANES: { phase: Phase; key: "setup" | "steps" | "teardown"; prefix: string; label: string }[] = [
  { phase: "setup", key: "setup", prefix: "setup", label: "Setup" },
  { phase: "main", key: "steps", prefix: "step", label: "Steps" },
  { phase: "teardown", key: "teardown", prefix: "teardown", label: "Teardown" },
];

/** The id a step has in results: its own, or `step_N` / `setup_N` / `teardown_N` counted from 1. */
export function stepIdOf(step: SpecStep, prefix: string, index: number): string {
  return step.id ?? `${prefix}_${index + 1}`;
}

/** The deciding attempt of each step of a run, by `phase/stepId`. */
export function lastAttempts(steps: ExecutionStep[]): Map<string, ExecutionStep> {
  const found = new Map<string, ExecutionStep>();
  for (const step of steps) {
    const key = `${step.phase}/${step.stepId}`;
    const seen = found.get(key);
    if (!seen || step.attempt >= seen.attempt) found.set(key, step);
  }
  return found;
}

export function flowGraph(spec: FlowSpec, lastRun: ExecutionStep[] = []): { nodes: Node[]; edges: Edge[] } {
  const results = lastAttempts(lastRun);
  const nodes: Node[] = [];
  const edges: Edge[] = [];
  let previous: string | null = null;
  let row = 0;
  let column = 0;
  for (const lane of LANES) {
    const steps = spec[lane.key] ?? [];
    if (steps.length === 0) continue;
    nodes.push({
      id: `lane-${lane.phase}`,
      type: "lane",
      position: { x: -170, y: row * ROW + 18 },
      data: { label: lane.label } satisfies LaneNodeData,
      draggable: false,
      selectable: false,
    });
    steps.forEach((step, index) => {
      const stepId = stepIdOf(step, lane.prefix, index);
      const id = `${lane.phase}/${stepId}`;
      const result = results.get(id);
      nodes.push({
        id,
        type: "step",
        position: { x: column * COLUMN, y: row * ROW },
        data: {
          label: step.name ?? stepId,
          action: step.action,
          phase: lane.phase,
          status: result?.status ?? null,
          durationMs: result?.durationMs ?? null,
          assertions: step.assert?.length ?? 0,
        } satisfies StepNodeData,
      });
      if (previous) {
        edges.push({ id: `${previous}->${id}`, source: previous, target: id, animated: result?.status === "running" });
      }
      previous = id;
      column++;
    });
    row++;
  }
  return { nodes, edges };
}
