// TanStack Query hooks, one per API resource, and the live-event subscriptions (SSE).
"use client";

import { useInfiniteQuery, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { apiGet, apiUrl } from "./api";
import { followEvents } from "./event-stream";
import { useSessionStore } from "./session";
import type { Environment, Execution, ExecutionDetail, ExecutionStep, FlakyReport, FlowDetail, FlowListItem, Items, Overview, Page, Schedule, Session } from "./types";
import { type ExecutionFilters, type FlowFilters, rangeStart } from "./store";

export const keys = {
  overview: ["overview"] as const,
  flows: (filters: FlowFilters) => ["flows", filters] as const,
  flow: (namespace: string, name: string) => ["flow", namespace, name] as const,
  executions: (filters: ExecutionFilters) => ["executions", filters] as const,
  execution: (runId: string) => ["execution", runId] as const,
  flaky: ["flaky"] as const,
  schedules: ["schedules"] as const,
  environments: ["environments"] as const,
};

export function useOverview() {
  return useQuery({ queryKey: keys.overview, queryFn: ({ signal }) => apiGet<Overview>("/overview", {}, signal), refetchInterval: 30_000 });
}

export function useFlows(filters: FlowFilters) {
  return useQuery({
    queryKey: keys.flows(filters),
    queryFn: ({ signal }) => apiGet<Items<FlowListItem>>("/flows", { namespace: filters.namespace, tag: filters.tag, q: filters.q }, signal),
  });
}

/** Every flow, unfiltered: the namespace and tag choices of the filters come from it. */
export function useAllFlows() {
  return useFlows({ q: "", namespace: "", tag: "" });
}

export function useFlow(namespace: string, name: string) {
  return useQuery({
    queryKey: keys.flow(namespace, name),
    queryFn: ({ signal }) => apiGet<FlowDetail>(`/flows/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`, {}, signal),
    enabled: namespace !== "" && name !== "",
  });
}

export const EXECUTIONS_PAGE_SIZE = 25;

export function useExecutions(filters: ExecutionFilters) {
  return useInfiniteQuery({
    queryKey: keys.executions(filters),
    initialPageParam: "",
    queryFn: ({ pageParam, signal }) =>
      apiGet<Page<Execution>>(
        "/executions",
        {
          status: filters.status,
          namespace: filters.namespace,
          flow: filters.flow,
          trigger: filters.trigger,
          environment: filters.environment,
          from: rangeStart(filters.range),
          cursor: pageParam,
          limit: EXECUTIONS_PAGE_SIZE,
          sort: "-queuedAt",
        },
        signal,
      ),
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
}

export function useExecution(runId: string) {
  return useQuery({
    queryKey: keys.execution(runId),
    queryFn: ({ signal }) => apiGet<ExecutionDetail>(`/executions/${encodeURIComponent(runId)}`, {}, signal),
    enabled: runId !== "",
  });
}

export function useFlaky() {
  return useQuery({ queryKey: keys.flaky, queryFn: ({ signal }) => apiGet<FlakyReport>("/flaky", { window: "7d" }, signal) });
}

export function useSchedules() {
  return useQuery({ queryKey: keys.schedules, queryFn: ({ signal }) => apiGet<Items<Schedule>>("/schedules", {}, signal) });
}

export function useEnvironments() {
  return useQuery({ queryKey: keys.environments, queryFn: ({ signal }) => apiGet<Items<Environment>>("/environments", {}, signal) });
}

const ACTIVE: ReadonlySet<string> = new Set(["queued", "running"]);

export function isActive(status: string): boolean {
  return ACTIVE.has(status);
}

/** Puts a streamed step into a run: it replaces the same step attempt, or joins the list in order. */
export function mergeStep(steps: ExecutionStep[], step: ExecutionStep): ExecutionStep[] {
  const others = steps.filter((s) => !(s.stepIndex === step.stepIndex && s.attempt === step.attempt));
  return [...others, step].sort((a, b) => a.stepIndex - b.stepIndex || a.attempt - b.attempt);
}

export type LiveState = "idle" | "connecting" | "live" | "closed";

/** While a run is queued or running, follows /executions/{id}/events and writes into the query cache. */
export function useExecutionEvents(runId: string, status: string | undefined): LiveState {
  const client = useQueryClient();
  const [state, setState] = useState<LiveState>("idle");
  const follow = runId !== "" && status !== undefined && isActive(status);
  useEffect(() => {
    if (!follow) return;
    setState("connecting");
    const stop = followEvents(apiUrl(`/executions/${encodeURIComponent(runId)}/events`), {
      onOpen: () => setState("live"),
      onEvent: (name, data) => {
        if (name === "step") {
          const step = JSON.parse(data) as ExecutionStep;
          client.setQueryData<ExecutionDetail>(keys.execution(runId), (run) => (run ? { ...run, status: "running", steps: mergeStep(run.steps, step) } : run));
        } else if (name === "finished") {
          const finished = JSON.parse(data) as Execution;
          client.setQueryData<ExecutionDetail>(keys.execution(runId), (run) => (run ? { ...run, ...finished } : run));
        }
      },
      onClose: () => setState("closed"),
    });
    return () => {
      stop();
      setState("idle");
    };
  }, [follow, runId, client]);
  return state;
}

/** How long /live waits before it follows the feed again after the stream ended. */
const LIVE_RECONNECT_MS = 5_000;

/** Follows /live: each started or finished run refreshes the lists that show runs. */
export function useLiveRuns() {
  const client = useQueryClient();
  const token = useSessionStore((session) => session.token);
  useEffect(() => {
    let stop = () => {};
    let retry: ReturnType<typeof setTimeout> | undefined;
    const follow = () => {
      stop = followEvents(apiUrl("/live"), {
        onEvent: (name) => {
          if (name !== "run") return;
          void client.invalidateQueries({ queryKey: keys.overview });
          void client.invalidateQueries({ queryKey: ["executions"] });
        },
        onClose: () => {
          retry = setTimeout(follow, LIVE_RECONNECT_MS);
        },
      });
    };
    follow();
    return () => {
      clearTimeout(retry);
      stop();
    };
  }, [client, token]);
}

/** Who the API takes this tab to be (user, groups, namespaces). */
export function useSession() {
  const token = useSessionStore((session) => session.token);
  return useQuery({ queryKey: ["session", token], queryFn: ({ signal }) => apiGet<Session>("/session", {}, signal), staleTime: 60_000 });
}
