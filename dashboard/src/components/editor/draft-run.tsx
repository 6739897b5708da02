// A draft run of the flow being edited (`POST /api/v1/runs`, when the API allows it): started in a
// namespace with an environment, followed live over the run's events, each step's status shown
// on its node, and each step's detail (request, response, assertions) one click away. Clicking a
// field of a response captures it into that step's `output`.
"use client";

import { Play } from "lucide-react";
import { useEffect, useMemo, useState } from "react";
import { ApiError, apiPost } from "@/lib/api";
import { lastAttempts } from "@/lib/flow-graph";
import { isActive, useExecution, useExecutionEvents } from "@/lib/queries";
import type { ExecutionStep } from "@/lib/types";
import { StatusBadge } from "../status-badge";
import { StepDetail } from "../step-detail";
import { Button } from "../ui/button";
import { Input } from "../ui/input";

interface DraftRunAnswer {
  runId: string;
  namespace: string;
  flowName: string;
}

/** How often a run's record is read again while it is active, beside its live events. */
const REFRESH_MS = 1000;

/** The draft run being followed: its record, and each step's status by step id. */
export function useDraftRun(runId: string) {
  const run = useExecution(runId);
  const live = useExecutionEvents(runId, run.data?.status);
  const active = run.data ? isActive(run.data.status) : runId !== "";
  useEffect(() => {
    if (!active || runId === "") return;
    const timer = setInterval(() => void run.refetch(), REFRESH_MS);
    return () => clearInterval(timer);
  }, [active, runId, run]);
  const statuses = useMemo(() => {
    const map = new Map<string, string>();
    for (const step of lastAttempts(run.data?.steps ?? []).values()) map.set(step.stepId, step.status);
    return map;
  }, [run.data]);
  return { run: run.data, live, statuses };
}

interface PanelProps {
  flowText: string;
  namespace: string;
  runId: string;
  onStarted: (runId: string) => void;
  /** A field of step `stepId`'s response was clicked: capture `path` as `name`. */
  onCapture: (stepId: string, name: string, path: string) => void;
}

export function DraftRunPanel({ flowText, namespace: initialNamespace, runId, onStarted, onCapture }: PanelProps) {
  const [namespace, setNamespace] = useState(initialNamespace || "default");
  const [environment, setEnvironment] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [starting, setStarting] = useState(false);
  const [shown, setShown] = useState<ExecutionStep | null>(null);
  const { run } = useDraftRun(runId);
  const steps = [...lastAttempts(run?.steps ?? []).values()];
  const current = shown ? (steps.find((s) => s.stepId === shown.stepId && s.phase === shown.phase) ?? shown) : null;

  const start = async () => {
    setStarting(true);
    setError(null);
    setShown(null);
    try {
      const answer = await apiPost<DraftRunAnswer>("/runs", { namespace, environment: environment || null, flow: flowText });
      onStarted(answer.runId);
    } catch (cause) {
      setError(cause instanceof ApiError ? cause.message : String(cause));
    } finally {
      setStarting(false);
    }
  };

  return (
    <div className="space-y-2" data-testid="draft-run">
      <div className="grid grid-cols-2 gap-2">
        <Input aria-label="Run namespace" placeholder="namespace" value={namespace} onChange={(e) => setNamespace(e.target.value)} />
        <Input aria-label="Run environment" placeholder="environment (optional)" value={environment} onChange={(e) => setEnvironment(e.target.value)} />
      </div>
      <Button size="sm" onClick={start} disabled={starting}>
        <Play /> Run draft
      </Button>
      {error && (
        <p role="alert" className="text-xs text-red-700 dark:text-red-300" data-testid="draft-error">
          {error}
        </p>
      )}
      {run && (
        <div className="space-y-1" data-testid="draft-status" data-status={run.status}>
          <p className="flex items-center gap-2 text-xs">
            <StatusBadge status={run.status} /> <span className="font-mono">{run.runId}</span>
          </p>
          {run.error && <p className="text-xs text-red-700">{run.error}</p>}
          <ul className="space-y-0.5">
            {steps.map((step) => (
              <li key={`${step.phase}/${step.stepId}`}>
                <button type="button" className="flex w-full items-center gap-2 rounded px-1 text-left text-xs hover:bg-accent" onClick={() => setShown(step)} data-testid="draft-step">
                  <StatusBadge status={step.status} compact /> {step.stepId}
                </button>
              </li>
            ))}
          </ul>
        </div>
      )}
      {current && (
        <div className="rounded-md border border-border p-2">
          <p className="mb-1 text-[11px] text-muted-foreground">Click a field of the response to capture it.</p>
          <StepDetail step={current} onPick={(path) => onCapture(current.stepId, path.split(/[.[\]"]+/).filter(Boolean).pop() ?? "value", path)} />
        </div>
      )}
    </div>
  );
}
