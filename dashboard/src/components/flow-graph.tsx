// The flow drawn with React Flow: step nodes show the last run's status and duration.
"use client";

import { Background, Controls, Handle, type NodeProps, type NodeTypes, Position, ReactFlow } from "@xyflow/react";
import "@xyflow/react/dist/style.css";
import { useMemo } from "react";
import { flowGraph, type LaneNodeData, type StepNodeData } from "@/lib/flow-graph";
import { formatDuration } from "@/lib/format";
import type { ExecutionStep, FlowSpec } from "@/lib/types";
import { useThemeStore } from "@/lib/store";
import { cn } from "@/lib/utils";
import { StatusBadge } from "./status-badge";

const BORDER: Record<string, string> = {
  passed: "border-emerald-500",
  failed: "border-red-500",
  error: "border-orange-500",
  running: "border-sky-500",
};

function StepNode({ data }: NodeProps) {
  const step = data as StepNodeData;
  return (
    <div data-testid="flow-node" className={cn("w-[200px] rounded-md border-2 bg-card px-3 py-2 text-card-foreground shadow-sm", BORDER[step.status ?? ""] ?? "border-border")}>
      <Handle type="target" position={Position.Left} className="!bg-muted-foreground" />
      <div className="truncate text-xs font-semibold" title={step.label}>
        {step.label}
      </div>
      <div className="truncate font-mono text-[10px] text-muted-foreground">{step.action}</div>
      <div className="mt-1 flex items-center justify-between gap-1">
        <StatusBadge status={step.status} />
        <span className="text-[10px] tabular-nums text-muted-foreground">{formatDuration(step.durationMs)}</span>
      </div>
      <Handle type="source" position={Position.Right} className="!bg-muted-foreground" />
    </div>
  );
}

function LaneNode({ data }: NodeProps) {
  const lane = data as LaneNodeData;
  return <div className="w-[140px] text-right text-xs font-semibold uppercase tracking-wide text-muted-foreground">{lane.label}</div>;
}

const nodeTypes: NodeTypes = { step: StepNode, lane: LaneNode };

export function FlowGraph({ spec, lastRun }: { spec: FlowSpec; lastRun?: ExecutionStep[] }) {
  const { nodes, edges } = useMemo(() => flowGraph(spec, lastRun), [spec, lastRun]);
  const theme = useThemeStore((state) => state.theme);
  return (
    <div className="h-80 w-full overflow-hidden rounded-md border border-border" data-testid="flow-graph">
      <ReactFlow
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        fitView
        fitViewOptions={{ padding: 0.15 }}
        nodesConnectable={false}
        nodesDraggable={false}
        colorMode={theme}
        minZoom={0.2}
      >
        <Background />
        <Controls showInteractive={false} />
      </ReactFlow>
    </div>
  );
}
