// The editor's canvas (React Flow): lanes for setup, steps and teardown, containers for nested
// steps, badges for the action, the assertion count, validation problems and a draft run's
// status. Drop an action from the palette to add a step where it lands; drag a step along its
// row to reorder it, or to another lane to move it there.
"use client";

import {
  Background,
  Controls,
  type Node,
  type NodeProps,
  type NodeTypes,
  MiniMap,
  type NodeChange,
  ReactFlow,
  applyNodeChanges,
  ReactFlowProvider,
  useReactFlow,
  Handle,
  Position,
} from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { CircleAlert, TriangleAlert } from "lucide-react";
import { type DragEvent, useCallback, useEffect, useMemo, useState } from "react";
import { type StepPath, stepAt, stepsAt } from "@/lib/editor/document";
import { type EditorNodeData, editorGraph, indexAt, ROW_PADDING, laneTops, type LaneNodeData, type NodeMarks } from "@/lib/editor/graph";
import { useEditorStore } from "@/lib/editor/store";
import { useThemeStore } from "@/lib/store";
import { cn } from "@/lib/utils";
import type { SpecStep } from "@/lib/types";
import { StatusBadge } from "../status-badge";

/** How many top-level steps the view fits at most. */
const FIT_AT_MOST = 5;

/** The drag payload of a palette item. */
export const ACTION_MIME = "application/x-testmesh-action";

const STATUS_BORDER: Record<string, string> = {
  passed: "border-emerald-500",
  failed: "border-red-500",
  error: "border-orange-500",
  running: "border-sky-500",
};

function StepNode({ data, selected }: NodeProps) {
  const step = data as EditorNodeData;
  const { errors, warnings, status } = step.marks;
  const border = errors.length > 0 ? "border-red-500" : (STATUS_BORDER[status ?? ""] ?? "border-border");
  return (
    <div
      data-testid="editor-node"
      data-path={step.path.join("/")}
      data-errors={errors.length}
      className={cn(
        "h-full w-full rounded-md border-2 bg-card px-3 py-2 text-card-foreground shadow-sm",
        step.container && "bg-muted/40",
        border,
        selected && "ring-2 ring-primary",
      )}
    >
      <Handle type="target" position={Position.Left} className="!bg-muted-foreground" isConnectable={false} />
      <div className="truncate text-xs font-semibold" title={step.label}>
        {step.label}
      </div>
      <div className="mt-0.5 flex flex-wrap items-center gap-1">
        <span className="rounded bg-muted px-1 font-mono text-[10px]">{step.action}</span>
        {step.assertions > 0 && <span className="rounded bg-muted px-1 text-[10px]" title="Assertions">{step.assertions} assert</span>}
        {errors.length > 0 && (
          <span data-testid="node-errors" className="inline-flex items-center gap-0.5 rounded bg-red-100 px-1 text-[10px] text-red-800 dark:bg-red-950 dark:text-red-300" title={errors.join("\n")}>
            <CircleAlert className="size-3" aria-hidden /> {errors.length}
          </span>
        )}
        {warnings.length > 0 && (
          <span className="inline-flex items-center gap-0.5 rounded bg-amber-100 px-1 text-[10px] text-amber-800 dark:bg-amber-950 dark:text-amber-300" title={warnings.join("\n")}>
            <TriangleAlert className="size-3" aria-hidden /> {warnings.length}
          </span>
        )}
        {status && <StatusBadge status={status} compact />}
      </div>
      {errors.length > 0 && !step.container && <p className="mt-1 line-clamp-2 text-[10px] text-red-700 dark:text-red-300">{errors[0]}</p>}
      <Handle type="source" position={Position.Right} className="!bg-muted-foreground" isConnectable={false} />
    </div>
  );
}

function NestedLabel({ data }: NodeProps) {
  return <div className="text-[10px] font-semibold uppercase tracking-wide text-muted-foreground">{String(data.label)}</div>;
}

function LaneNode({ data }: NodeProps) {
  const lane = data as LaneNodeData;
  return <div className="w-[140px] text-right text-xs font-semibold uppercase tracking-wide text-muted-foreground">{lane.label}</div>;
}

const nodeTypes: NodeTypes = { editorStep: StepNode, nestedLabel: NestedLabel, lane: LaneNode };

function sameList(a: StepPath, b: StepPath): boolean {
  return JSON.stringify(a.slice(0, -1)) === JSON.stringify(b.slice(0, -1));
}

interface CanvasProps {
  marks: Map<string, NodeMarks>;
  /** Adds a step of `action` at `index` of the list at `listPath`. */
  onAdd: (action: string, listPath: StepPath, index: number) => void;
  onMove: (path: StepPath, toList: StepPath, index: number) => void;
}

function CanvasInner({ marks, onAdd, onMove }: CanvasProps) {
  const spec = useEditorStore((s) => s.spec);
  const selected = useEditorStore((s) => s.selected);
  const select = useEditorStore((s) => s.select);
  const theme = useThemeStore((s) => s.theme);
  const flow = useReactFlow();
  const graph = useMemo(() => editorGraph(spec, marks), [spec, marks]);
  const stepCount = graph.nodes.length;
  // Zoom to fit whenever steps come or go; a long flow fits its first steps, readable, and the
  // minimap shows the rest.
  useEffect(() => {
    const steps = graph.nodes.filter((node) => node.type === "editorStep" && !node.parentId);
    const nodes = steps.length > FIT_AT_MOST ? [...graph.nodes.filter((n) => n.type === "lane"), ...steps.slice(0, FIT_AT_MOST)] : undefined;
    const frame = requestAnimationFrame(() => void flow.fitView({ padding: 0.2, nodes: nodes?.map((n) => ({ id: n.id })) }));
    return () => cancelAnimationFrame(frame);
    // Only a change in the number of nodes refits; edits inside a step leave the view alone.
  }, [stepCount, flow]);
  const nodes = useMemo(() => {
    const key = selected ? selected.join("/") : "";
    return graph.nodes.map((node) => (node.type === "editorStep" && (node.data as EditorNodeData).path.join("/") === key ? { ...node, selected: true } : node));
  }, [graph.nodes, selected]);
  // The nodes as drawn: the layout's, moved while a step is dragged; the layout comes back with
  // the next edit (a drop reorders the steps, or changes nothing).
  const [drawn, setDrawn] = useState<Node[]>(nodes);
  useEffect(() => setDrawn(nodes), [nodes]);
  const onNodesChange = useCallback(
    (changes: NodeChange[]) => setDrawn((current) => applyNodeChanges(changes.filter((c) => c.type === "position" || c.type === "dimensions"), current)),
    [],
  );

  /** Where a point of the canvas lands: the innermost nested list under it, or a lane. */
  const target = useCallback(
    (point: { x: number; y: number }): { list: StepPath; index: number } => {
      let best: { list: StepPath; index: number; depth: number } | null = null;
      for (const node of graph.nodes) {
        if (node.type !== "nestedLabel" || !node.parentId) continue;
        const parent = flow.getInternalNode(node.parentId);
        const label = flow.getInternalNode(node.id);
        if (!parent || !label) continue;
        const box = parent.internals.positionAbsolute;
        const width = Number(parent.measured?.width ?? parent.width ?? 0);
        const height = Number(parent.measured?.height ?? parent.height ?? 0);
        const inside = point.x >= box.x && point.x <= box.x + width && point.y >= box.y && point.y <= box.y + height;
        const rowTop = label.internals.positionAbsolute.y;
        if (!inside || point.y < rowTop) continue;
        const list = (node.data as { path: StepPath }).path;
        const depth = list.length;
        if (!best || depth > best.depth || (depth === best.depth && rowTop >= 0)) {
          best = { list, index: indexAt(stepsAt(spec, list), point.x - label.internals.positionAbsolute.x), depth };
        }
      }
      if (best) return { list: best.list, index: best.index };
      const lane = laneTops(spec).find((band) => point.y >= band.top && point.y < band.bottom) ?? { key: point.y < 0 ? "setup" : "teardown" };
      return { list: [lane.key], index: indexAt(spec[lane.key as "steps"] ?? [], point.x) };
    },
    [flow, graph.nodes, spec],
  );

  const onDrop = (event: DragEvent) => {
    const action = event.dataTransfer.getData(ACTION_MIME);
    if (!action) return;
    event.preventDefault();
    const point = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
    const where = target(point);
    onAdd(action, where.list, where.index);
  };

  const onNodeDragStop = (_: unknown, node: Node) => {
    if (node.type !== "editorStep") return;
    const path = (node.data as EditorNodeData).path;
    // A top-level step's position is absolute; a nested one stays in its row (`extent: parent`).
    const center = { x: node.position.x + Number(node.measured?.width ?? 0) / 2, y: node.position.y + Number(node.measured?.height ?? 0) / 2 };
    const where = node.parentId ? { list: path.slice(0, -1), index: indexAt(stepsAt(spec, path.slice(0, -1)), center.x - ROW_PADDING) } : target(center);
    let index = where.index;
    if (sameList(path, [...where.list, 0]) && index > Number(path[path.length - 1])) index -= 1;
    setDrawn(nodes);
    onMove(path, where.list, index);
  };

  return (
    <div className="h-full w-full" data-testid="editor-canvas" onDragOver={(e) => e.preventDefault()} onDrop={onDrop}>
      <ReactFlow
        nodes={drawn}
        onNodesChange={onNodesChange}
        edges={graph.edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.2 }}
        minZoom={0.05}
        nodesConnectable={false}
        colorMode={theme}
        onNodeClick={(_, node) => node.type === "editorStep" && select((node.data as EditorNodeData).path)}
        onPaneClick={() => select(null)}
        onNodeDragStop={onNodeDragStop}
        deleteKeyCode={null}
      >
        <Background />
        <MiniMap pannable zoomable nodeColor={(node) => (node.type === "editorStep" ? "#94a3b8" : "transparent")} nodeStrokeWidth={0} />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}

export function EditorCanvas(props: CanvasProps) {
  return (
    <ReactFlowProvider>
      <CanvasInner {...props} />
    </ReactFlowProvider>
  );
}

/** The marks of every node: findings by step path, and a draft run's status by step id. */
export function nodeMarks(
  findings: { severity: string; message: string; stepPath: string | null; stepField: string | null }[],
  statuses: Map<string, string>,
  spec: Parameters<typeof stepAt>[0],
): Map<string, NodeMarks> {
  const marks = new Map<string, NodeMarks>();
  const get = (key: string) => {
    let found = marks.get(key);
    if (!found) marks.set(key, (found = { errors: [], warnings: [], status: null }));
    return found;
  };
  for (const finding of findings) {
    if (!finding.stepPath) continue;
    const text = finding.stepField ? `${finding.stepField}: ${finding.message}` : finding.message;
    (finding.severity === "error" ? get(finding.stepPath).errors : get(finding.stepPath).warnings).push(text);
  }
  if (statuses.size > 0) {
    const walk = (steps: SpecStep[] | undefined, prefix: string, list: string) =>
      (steps ?? []).forEach((step, index) => {
        const id = step.id ?? `${prefix}_${index + 1}`;
        const status = statuses.get(id);
        if (status) get(`${list}[${index}]`).status = status;
      });
    walk(spec.setup, "setup", "setup");
    walk(spec.steps, "step", "steps");
    walk(spec.teardown, "teardown", "teardown");
  }
  return marks;
}
