// One assertion's outcome: the expression, and each value it read with the expected one beside it.
import { CheckCircle2, XCircle } from "lucide-react";
import { assertionRows } from "@/lib/expectation";
import type { AssertionOutcome } from "@/lib/types";
import { cn } from "@/lib/utils";

export function AssertionDiff({ assertion }: { assertion: AssertionOutcome }) {
  const rows = assertionRows(assertion);
  return (
    <div
      data-testid="assertion"
      data-passed={assertion.passed}
      className={cn(
        "rounded-md border p-3 text-sm",
        assertion.passed ? "border-border" : "border-red-300 bg-red-50/60 dark:border-red-900 dark:bg-red-950/30",
      )}
    >
      <div className="flex items-start gap-2">
        {assertion.passed ? (
          <CheckCircle2 className="mt-0.5 size-4 shrink-0 text-emerald-600" aria-label="passed" />
        ) : (
          <XCircle className="mt-0.5 size-4 shrink-0 text-red-600" aria-label="failed" />
        )}
        <code className="font-mono text-xs break-all">{assertion.expression}</code>
      </div>
      {assertion.message && <p className="mt-1 pl-6 text-xs text-muted-foreground">{assertion.message}</p>}
      {assertion.error && <p className="mt-1 pl-6 text-xs text-orange-700 dark:text-orange-300">{assertion.error}</p>}
      {!assertion.passed && (
        <div className="mt-2 overflow-x-auto pl-6">
          <table className="w-full text-xs">
            <thead>
              <tr className="text-left text-muted-foreground">
                <th className="pr-3 font-medium">Value</th>
                <th className="pr-3 font-medium">Expected</th>
                <th className="font-medium">Actual</th>
              </tr>
            </thead>
            <tbody className="font-mono">
              {rows.map((row) => (
                <tr key={row.path}>
                  <td className="pr-3 align-top">{row.path}</td>
                  <td data-testid="expected" className="pr-3 align-top text-emerald-700 dark:text-emerald-400 break-all">
                    {row.expected}
                  </td>
                  <td data-testid="actual" className="align-top text-red-700 dark:text-red-400 break-all">
                    {row.actual}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}
