// Executions: every run, newest first, filtered by status, namespace, flow, trigger, environment
// and time range, a page at a time (cursor pagination).
"use client";

import { useSearchParams } from "next/navigation";
import { Suspense, useEffect, useMemo } from "react";
import { PageHeader } from "@/components/app-shell";
import { ExecutionsTable } from "@/components/executions-table";
import { EmptyState, ErrorState, LoadingState } from "@/components/page-states";
import { Button } from "@/components/ui/button";
import { Card, CardContent } from "@/components/ui/card";
import { Input, Select } from "@/components/ui/input";
import { useAllFlows, useExecutions } from "@/lib/queries";
import { EMPTY_EXECUTION_FILTERS, type ExecutionFilters, useFilterStore } from "@/lib/store";

const STATUSES = ["queued", "running", "passed", "failed", "error", "cancelled", "timed_out"];
const TRIGGERS = ["schedule", "annotation", "change", "manual"];
const RANGES: [string, string][] = [
  ["", "Any time"],
  ["1h", "Last hour"],
  ["24h", "Last 24 hours"],
  ["7d", "Last 7 days"],
  ["30d", "Last 30 days"],
];

/** Links such as /executions/?namespace=shop&flow=checkout start with those filters set. */
function useFiltersFromUrl() {
  const params = useSearchParams();
  const replace = useFilterStore((state) => state.replaceExecutionFilters);
  useEffect(() => {
    const fromUrl: Partial<ExecutionFilters> = {};
    for (const key of Object.keys(EMPTY_EXECUTION_FILTERS) as (keyof ExecutionFilters)[]) {
      const value = params.get(key);
      if (value) fromUrl[key] = value;
    }
    if (Object.keys(fromUrl).length > 0) replace(fromUrl);
  }, [params, replace]);
}

function Executions() {
  useFiltersFromUrl();
  const filters = useFilterStore((state) => state.executions);
  const setFilter = useFilterStore((state) => state.setExecutionFilter);
  const replace = useFilterStore((state) => state.replaceExecutionFilters);
  const runs = useExecutions(filters);
  const flows = useAllFlows();
  const namespaces = useMemo(() => [...new Set((flows.data?.items ?? []).map((f) => f.namespace))].sort(), [flows.data]);
  const flowNames = useMemo(
    () => [...new Set((flows.data?.items ?? []).filter((f) => filters.namespace === "" || f.namespace === filters.namespace).map((f) => f.name))].sort(),
    [flows.data, filters.namespace],
  );
  const items = runs.data?.pages.flatMap((page) => page.items) ?? [];
  const filtered = Object.values(filters).some((value) => value !== "");

  return (
    <>
      <PageHeader title="Executions" description="Every run, newest first" />
      <Card className="mb-4">
        <CardContent className="grid grid-cols-2 gap-2 pt-4 md:grid-cols-3 xl:grid-cols-6">
          <Select aria-label="Status" value={filters.status} onChange={(e) => setFilter("status", e.target.value)}>
            <option value="">Any status</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {status.replace("_", " ")}
              </option>
            ))}
          </Select>
          <Select aria-label="Namespace" value={filters.namespace} onChange={(e) => setFilter("namespace", e.target.value)}>
            <option value="">All namespaces</option>
            {namespaces.map((ns) => (
              <option key={ns}>{ns}</option>
            ))}
          </Select>
          <Select aria-label="Flow" value={filters.flow} onChange={(e) => setFilter("flow", e.target.value)}>
            <option value="">All flows</option>
            {filters.flow !== "" && !flowNames.includes(filters.flow) && <option>{filters.flow}</option>}
            {flowNames.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </Select>
          <Select aria-label="Trigger" value={filters.trigger} onChange={(e) => setFilter("trigger", e.target.value)}>
            <option value="">Any trigger</option>
            {TRIGGERS.map((trigger) => (
              <option key={trigger}>{trigger}</option>
            ))}
          </Select>
          <Input aria-label="Environment" placeholder="Environment" value={filters.environment} onChange={(e) => setFilter("environment", e.target.value)} />
          <Select aria-label="Time range" value={filters.range} onChange={(e) => setFilter("range", e.target.value)}>
            {RANGES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </Select>
          {filtered && (
            <div className="col-span-full">
              <Button variant="ghost" size="sm" onClick={() => replace({})}>
                Clear filters
              </Button>
            </div>
          )}
        </CardContent>
      </Card>
      {runs.isPending && <LoadingState rows={10} />}
      {runs.isError && <ErrorState error={runs.error} onRetry={() => runs.refetch()} />}
      {runs.isSuccess && items.length === 0 && (
        <EmptyState title={filtered ? "No run matches these filters" : "No runs yet"}>{filtered ? "Widen the time range or clear a filter." : "Runs appear here as soon as a flow runs."}</EmptyState>
      )}
      {items.length > 0 && (
        <Card>
          <ExecutionsTable runs={items} />
          <div className="flex items-center justify-between gap-2 border-t border-border p-3 text-xs text-muted-foreground">
            <span data-testid="executions-count">
              {items.length} run{items.length === 1 ? "" : "s"} shown
            </span>
            {runs.hasNextPage ? (
              <Button variant="outline" size="sm" onClick={() => runs.fetchNextPage()} disabled={runs.isFetchingNextPage}>
                {runs.isFetchingNextPage ? "Loading…" : "Load more"}
              </Button>
            ) : (
              <span>End of the list</span>
            )}
          </div>
        </Card>
      )}
    </>
  );
}

export default function ExecutionsPage() {
  return (
    <Suspense fallback={<LoadingState rows={10} />}>
      <Executions />
    </Suspense>
  );
}
