// Whether a flow can run: a flow the operator found invalid (its Ready condition False) says so,
// with the validator's message, instead of reading as "Never run".
import { OctagonAlert } from "lucide-react";
import type { FlowListItem } from "@/lib/types";

/** The "Invalid" label of a flow that is not ready, with its reason as a tooltip; nothing otherwise. */
export function NotReadyBadge({ flow }: { flow: Pick<FlowListItem, "ready" | "notReadyReason" | "conditions"> }) {
  if (flow.ready !== false) return null;
  const ready = flow.conditions?.find((c) => c.type === "Ready");
  const label = ready?.reason === "ValidationFailed" || !ready ? "Invalid" : "Not ready";
  return (
    <span
      data-testid="flow-not-ready"
      title={flow.notReadyReason ?? undefined}
      className="inline-flex items-center gap-1 rounded-full bg-red-100 px-2 py-0.5 text-xs font-medium whitespace-nowrap text-red-800 dark:bg-red-950 dark:text-red-300"
    >
      <OctagonAlert className="size-3.5" aria-hidden />
      {label}
    </span>
  );
}

/** The conditions of a flow that is not ready, each with its reason and message. */
export function NotReadyPanel({ flow }: { flow: Pick<FlowListItem, "ready" | "notReadyReason" | "conditions"> }) {
  if (flow.ready !== false) return null;
  const problems = (flow.conditions ?? []).filter((c) => (c.type === "Stalled" ? c.status === "True" : c.status !== "True"));
  return (
    <div role="alert" data-testid="flow-conditions" className="mb-4 rounded-lg border border-red-300 bg-red-50 p-3 text-sm text-red-900 dark:border-red-900 dark:bg-red-950 dark:text-red-200">
      <p className="mb-1 flex items-center gap-2 font-medium">
        <NotReadyBadge flow={flow} /> This flow does not run until it is fixed.
      </p>
      <ul className="space-y-1">
        {problems.map((c) => (
          <li key={c.type}>
            <span className="font-mono text-xs">
              {c.type}={c.status} ({c.reason})
            </span>
            : {c.message}
          </li>
        ))}
      </ul>
    </div>
  );
}
