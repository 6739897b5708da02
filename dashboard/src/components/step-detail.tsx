// Everything one step attempt recorded: its error, its assertions (expected beside actual), the
// request and response as folding JSON, and the values it captured.
"use client";

import { useState } from "react";
import { AssertionDiff } from "./assertion-diff";
import { JsonViewer } from "./json-viewer";
import { StatusBadge } from "./status-badge";
import { formatDuration, formatTime, formatValue } from "@/lib/format";
import type { ExecutionStep } from "@/lib/types";
import { cn } from "@/lib/utils";

type Tab = "response" | "request";

/** `onPick`: the response's keys become buttons answering their JSONPath (the editor's captures). */
export function StepDetail({ step, onPick }: { step: ExecutionStep; onPick?: (path: string) => void }) {
  const [tab, setTab] = useState<Tab>(step.response !== null && step.response !== undefined ? "response" : "request");
  const captured = Object.entries(step.captured ?? {});
  const failed = step.assertions.filter((a) => !a.passed);
  const passed = step.assertions.filter((a) => a.passed);
  return (
    <div className="flex flex-col gap-4" data-testid="step-detail">
      <div className="flex flex-wrap items-center gap-2">
        <h3 className="text-base font-semibold">{step.name ?? step.stepId}</h3>
        <StatusBadge status={step.status} />
        <span className="font-mono text-xs text-muted-foreground">{step.action}</span>
        <span className="text-xs text-muted-foreground">
          {step.phase} · attempt {step.attempt} · {formatDuration(step.durationMs)} · {formatTime(step.startedAt)}
        </span>
      </div>
      {step.error && (
        <p role="alert" className="rounded-md border border-orange-300 bg-orange-50 p-3 font-mono text-xs text-orange-900 dark:border-orange-900 dark:bg-orange-950/40 dark:text-orange-200">
          {step.error}
        </p>
      )}
      <section>
        <h4 className="mb-2 text-sm font-medium">
          Assertions{" "}
          <span className="text-xs font-normal text-muted-foreground">
            {passed.length} passed, {failed.length} failed
          </span>
        </h4>
        {step.assertions.length === 0 ? (
          <p className="text-xs text-muted-foreground">This step has no assertions.</p>
        ) : (
          <div className="flex flex-col gap-2">
            {[...failed, ...passed].map((assertion, index) => (
              <AssertionDiff key={`${assertion.expression}-${index}`} assertion={assertion} />
            ))}
          </div>
        )}
      </section>
      {(step.request != null || step.response != null) && (
        <section>
          <div role="tablist" className="mb-2 inline-flex rounded-md bg-muted p-0.5 text-xs">
            {(["response", "request"] as Tab[]).map((name) => (
              <button
                key={name}
                role="tab"
                type="button"
                aria-selected={tab === name}
                onClick={() => setTab(name)}
                className={cn("rounded px-3 py-1 capitalize", tab === name ? "bg-background font-medium shadow-sm" : "text-muted-foreground")}
              >
                {name}
              </button>
            ))}
          </div>
          {(tab === "response" ? step.response : step.request) == null ? (
            <p className="text-xs text-muted-foreground">Nothing recorded.</p>
          ) : (
            <JsonViewer key={tab} value={tab === "response" ? step.response : step.request} onPick={tab === "response" ? onPick : undefined} />
          )}
        </section>
      )}
      <section>
        <h4 className="mb-2 text-sm font-medium">Captured</h4>
        {captured.length === 0 ? (
          <p className="text-xs text-muted-foreground">No values captured.</p>
        ) : (
          <dl className="grid grid-cols-[auto_1fr] gap-x-4 gap-y-1 font-mono text-xs" data-testid="captured">
            {captured.map(([name, value]) => (
              <div key={name} className="contents">
                <dt className="text-muted-foreground">{name}</dt>
                <dd className="break-all">{formatValue(value)}</dd>
              </div>
            ))}
          </dl>
        )}
      </section>
    </div>
  );
}
