// The editor's canvas as React Flow nodes: one lane per phase (setup, steps, teardown), steps left
// to right, and the nested steps of `for_each`, `wait_until`, `condition` and `parallel` inside
// their step, drawn as a container with one row per nested list. Positions are computed, never
// stored: the layout is automatic. Node ids are step paths (`steps[1].config.then[0]`), the same
// the validator answers with, so each finding lands on its node.

import type { Edge, Node } from "@xyflow/react";
import type { FlowSpec, SpecStep } from "../types";
import { pathKey, type StepPath } from "./document";

export const STEP_WIDTH = 210;
export const STEP_HEIGHT = 92;
const GAP = 40;
const PAD = 14;
/** Where a container's rows of nested steps start, from its left edge. */
export const ROW_PADDING = PAD;
const HEADER = 64;
const ROW_LABEL = 18;
const LANE_GAP = 60;

export const LANES = [
  { key: "setup", label: "Setup" },
  { key: "steps", label: "Steps" },
  { key: "teardown", label: "Teardown" },
] as const;

export type LaneKey = (typeof LANES)[number]["key"];

/** What a finding or a draft run says of one node. */
export interface NodeMarks {
  errors: string[];
  warnings: string[];
  status: string | null;
}

export interface EditorNodeData extends Record<string, unknown> {
  path: StepPath;
  label: string;
  action: string;
  assertions: number;
  marks: NodeMarks;
  container: boolean;
}

export interface LaneNodeData extends Record<string, unknown> {
  lane: LaneKey;
  label: string;
}

/** A list of nested steps of a step: its path from the step, and its label on the canvas. */
export interface NestedList {
  path: StepPath;
  label: string;
  steps: SpecStep[];
}

function asSteps(value: unknown): SpecStep[] {
  return Array.isArray(value) ? value.filter((s): s is SpecStep => !!s && typeof s === "object" && "action" in s) : [];
}

/** The lists of nested steps a step holds, by action. */
export function nestedLists(step: SpecStep): NestedList[] {
  const config = (step.config ?? {}) as Record<string, unknown>;
  const lists: NestedList[] = [];
  const add = (key: string, label: string) => {
    if (key in config || lists.length === 0) lists.push({ path: ["config", key], label, steps: asSteps(config[key]) });
  };
  switch (step.action) {
    case "for_each":
    case "loop":
    case "foreach":
    case "wait_until":
      add("steps", "steps");
      break;
    case "condition":
    case "if":
      lists.push({ path: ["config", "then"], label: "then", steps: asSteps(config.then) });
      lists.push({ path: ["config", "else"], label: "else", steps: asSteps(config.else) });
      break;
    case "parallel": {
      const branches = Array.isArray(config.branches) ? config.branches : null;
      if (branches && branches.every((b) => b && typeof b === "object" && "action" in b)) {
        lists.push({ path: ["config", "branches"], label: "branches (one step each)", steps: asSteps(branches) });
      } else if (branches) {
        branches.forEach((branch, index) => {
          const record = (branch ?? {}) as Record<string, unknown>;
          lists.push({ path: ["config", "branches", index, "steps"], label: String(record.name ?? `branch ${index + 1}`), steps: asSteps(record.steps) });
        });
      } else {
        lists.push({ path: ["config", "steps"], label: "steps (each a branch)", steps: asSteps(config.steps) });
      }
      break;
    }
  }
  return lists;
}

interface Size {
  width: number;
  height: number;
}

function measure(step: SpecStep): Size {
  const lists = nestedLists(step);
  if (lists.length === 0) return { width: STEP_WIDTH, height: STEP_HEIGHT };
  let width = STEP_WIDTH;
  let height = HEADER;
  for (const list of lists) {
    const sizes = list.steps.map(measure);
    const rowWidth = sizes.reduce((sum, s) => sum + s.width, 0) + GAP * Math.max(0, sizes.length - 1);
    const rowHeight = Math.max(40, ...sizes.map((s) => s.height));
    width = Math.max(width, rowWidth + 2 * PAD);
    height += ROW_LABEL + rowHeight + PAD;
  }
  return { width, height };
}

/** The id of a list's drop zone node (an empty list still gets one to drop into). */
export function listNodeId(path: StepPath): string {
  return `list:${pathKey(path)}`;
}

function noMarks(): NodeMarks {
  return { errors: [], warnings: [], status: null };
}

/** Nodes and edges of `spec`, with each step's marks (by step path) from validation and runs. */
export function editorGraph(spec: FlowSpec, marks: Map<string, NodeMarks> = new Map()): { nodes: Node[]; edges: Edge[] } {
  const nodes: Node[] = [];
  const edges: Edge[] = [];

  const place = (steps: SpecStep[], listPath: StepPath, x0: number, y0: number, parentId: string | undefined) => {
    let x = x0;
    let previous: string | null = null;
    steps.forEach((step, index) => {
      const path = [...listPath, index];
      const id = pathKey(path);
      const size = measure(step);
      const lists = nestedLists(step);
      nodes.push({
        id,
        type: "editorStep",
        position: { x, y: y0 },
        ...(parentId ? { parentId, extent: "parent" as const } : {}),
        style: { width: size.width, height: size.height },
        data: {
          path,
          label: step.name ?? step.id ?? `${step.action} #${index + 1}`,
          action: step.action,
          assertions: step.assert?.length ?? 0,
          marks: marks.get(id) ?? noMarks(),
          container: lists.length > 0,
        } satisfies EditorNodeData,
      });
      let y = HEADER;
      for (const list of lists) {
        const nestedPath = [...path, ...list.path];
        nodes.push({
          id: listNodeId(nestedPath),
          type: "nestedLabel",
          position: { x: PAD, y },
          parentId: id,
          extent: "parent",
          draggable: false,
          selectable: false,
          data: { label: list.label, path: nestedPath },
        });
        place(list.steps, nestedPath, PAD, y + ROW_LABEL, id);
        y += ROW_LABEL + Math.max(40, ...list.steps.map((s) => measure(s).height)) + PAD;
      }
      if (previous) edges.push({ id: `${previous}->${id}`, source: previous, target: id });
      previous = id;
      x += size.width + GAP;
    });
  };

  let y = 0;
  for (const lane of LANES) {
    const steps = spec[lane.key] ?? [];
    nodes.push({
      id: `lane:${lane.key}`,
      type: "lane",
      position: { x: -170, y: y + 20 },
      draggable: false,
      selectable: false,
      data: { lane: lane.key, label: lane.label } satisfies LaneNodeData,
    });
    place(steps, [lane.key], 0, y, undefined);
    y += Math.max(STEP_HEIGHT, ...steps.map((s) => measure(s).height)) + LANE_GAP;
  }
  return { nodes, edges };
}

/** The top of each lane on the canvas, to find the lane a drop lands in. */
export function laneTops(spec: FlowSpec): { key: LaneKey; top: number; bottom: number }[] {
  let y = 0;
  return LANES.map((lane) => {
    const height = Math.max(STEP_HEIGHT, ...(spec[lane.key] ?? []).map((s) => measure(s).height));
    const band = { key: lane.key, top: y - LANE_GAP / 2, bottom: y + height + LANE_GAP / 2 };
    y += height + LANE_GAP;
    return band;
  });
}

/** Where in a row of steps a drop at `x` (relative to the row) goes. */
export function indexAt(steps: SpecStep[], x: number): number {
  let left = 0;
  for (let index = 0; index < steps.length; index++) {
    const width = measure(steps[index]).width;
    if (x < left + width / 2) return index;
    left += width + GAP;
  }
  return steps.length;
}
