// Flaky flows: runs, pass rate, how often the result flips, and the flakiness score.
import Link from "next/link";
import { Table, TableBody, TableCell, TableHead, TableHeader, TableRow } from "@/components/ui/table";
import { formatFlakiness, formatPercent } from "@/lib/format";
import { flowHref } from "@/lib/links";
import type { FlakyFlow } from "@/lib/types";
import { cn } from "@/lib/utils";

export function FlakinessScore({ value, threshold }: { value: number; threshold: number }) {
  const { score, flaky, label } = formatFlakiness(value, threshold);
  return (
    <span
      data-testid="flakiness"
      className={cn(
        "inline-flex items-center gap-1 rounded-full px-2 py-0.5 text-xs font-medium tabular-nums",
        flaky ? "bg-amber-100 text-amber-800 dark:bg-amber-950 dark:text-amber-300" : "bg-muted text-muted-foreground",
      )}
    >
      {score}
      <span className="font-normal">{label}</span>
    </span>
  );
}

export function FlakyTable({ items, threshold }: { items: FlakyFlow[]; threshold: number }) {
  return (
    <Table data-testid="flaky-table">
      <TableHeader>
        <TableRow>
          <TableHead>Flow</TableHead>
          <TableHead className="text-right">Flakiness</TableHead>
          <TableHead className="hidden sm:table-cell text-right">Pass rate</TableHead>
          <TableHead className="hidden sm:table-cell text-right">Flips</TableHead>
          <TableHead className="hidden md:table-cell text-right">Runs</TableHead>
        </TableRow>
      </TableHeader>
      <TableBody>
        {items.map((item) => (
          <TableRow key={`${item.namespace}/${item.flowName}`}>
            <TableCell className="max-w-[14rem]">
              <Link href={flowHref(item.namespace, item.flowName)} className="block truncate font-medium hover:underline">
                {item.flowName}
              </Link>
              <span className="block truncate text-xs text-muted-foreground">{item.namespace}</span>
            </TableCell>
            <TableCell className="text-right">
              <FlakinessScore value={item.flakiness} threshold={threshold} />
            </TableCell>
            <TableCell className="hidden sm:table-cell text-right tabular-nums">{formatPercent(item.passRate)}</TableCell>
            <TableCell className="hidden sm:table-cell text-right tabular-nums">{formatPercent(item.transitionRate)}</TableCell>
            <TableCell className="hidden md:table-cell text-right tabular-nums">{item.runs}</TableCell>
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}
