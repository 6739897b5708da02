// A JSON tree whose objects and arrays fold and unfold; deep levels start folded. With `onPick`,
// each key is a button that answers its JSONPath (`$.body.items[0].id`), for captures.
"use client";

import { ChevronDown, ChevronRight } from "lucide-react";
import { useState } from "react";
import { cn } from "@/lib/utils";

interface NodeProps {
  name?: string;
  /** The JSONPath of this value. */
  path: string;
  onPick?: (path: string) => void;
  value: unknown;
  depth: number;
  openDepth: number;
  last: boolean;
}

function Scalar({ value }: { value: unknown }) {
  if (value === null) return <span className="text-zinc-500">null</span>;
  if (typeof value === "string") return <span className="text-emerald-700 dark:text-emerald-400 break-all">{JSON.stringify(value)}</span>;
  if (typeof value === "number") return <span className="text-sky-700 dark:text-sky-400">{String(value)}</span>;
  if (typeof value === "boolean") return <span className="text-violet-700 dark:text-violet-400">{String(value)}</span>;
  return <span>{String(value)}</span>;
}

function Key({ name, path, onPick }: { name?: string; path: string; onPick?: (path: string) => void }) {
  if (name === undefined) return null;
  if (onPick) {
    return (
      <>
        <button type="button" data-testid="pick-field" data-path={path} title={`Capture ${path}`} onClick={() => onPick(path)} className="rounded text-rose-700 underline decoration-dotted hover:bg-rose-100 dark:text-rose-300 dark:hover:bg-rose-950">
          {JSON.stringify(name)}
        </button>
        :{" "}
      </>
    );
  }
  return <span className="text-rose-700 dark:text-rose-300">{JSON.stringify(name)}: </span>;
}

function childPath(path: string, key: string | undefined, index: number): string {
  if (key === undefined) return `${path}[${index}]`;
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}["${key}"]`;
}

function JsonNode({ name, path, onPick, value, depth, openDepth, last }: NodeProps) {
  const isArray = Array.isArray(value);
  const isObject = value !== null && typeof value === "object";
  const [open, setOpen] = useState(depth < openDepth);
  const comma = last ? "" : ",";
  if (!isObject) {
    return (
      <div className="pl-4">
        <Key name={name} path={path} onPick={onPick} />
        <Scalar value={value} />
        {comma}
      </div>
    );
  }
  const entries: [string | undefined, unknown][] = isArray ? (value as unknown[]).map((v) => [undefined, v]) : Object.entries(value as Record<string, unknown>);
  const [openBracket, closeBracket] = isArray ? ["[", "]"] : ["{", "}"];
  const summary = isArray ? `${entries.length} item${entries.length === 1 ? "" : "s"}` : `${entries.length} key${entries.length === 1 ? "" : "s"}`;
  if (entries.length === 0) {
    return (
      <div className="pl-4">
        <Key name={name} path={path} onPick={onPick} />
        {openBracket}
        {closeBracket}
        {comma}
      </div>
    );
  }
  return (
    <div className={cn(depth > 0 && "pl-4")}>
      <button
        type="button"
        aria-expanded={open}
        aria-label={`${open ? "Fold" : "Unfold"} ${name ?? "value"}`}
        onClick={() => setOpen(!open)}
        className="-ml-4 inline-flex items-center text-left hover:bg-muted rounded"
      >
        {open ? <ChevronDown className="size-3.5" aria-hidden /> : <ChevronRight className="size-3.5" aria-hidden />}
        <span>
          <Key name={name} path={path} onPick={onPick} />
          {openBracket}
          {!open && (
            <>
              <span className="mx-1 rounded bg-muted px-1 text-muted-foreground">{summary}</span>
              {closeBracket}
              {comma}
            </>
          )}
        </span>
      </button>
      {open && (
        <>
          {entries.map(([key, child], index) => (
            <JsonNode key={key ?? index} name={key} path={childPath(path, key, index)} onPick={onPick} value={child} depth={depth + 1} openDepth={openDepth} last={index === entries.length - 1} />
          ))}
          <div>
            {closeBracket}
            {comma}
          </div>
        </>
      )}
    </div>
  );
}

/** `openDepth`: how many levels start unfolded (2 shows a response's top keys and their children). */
export function JsonViewer({ value, openDepth = 2, className, onPick }: { value: unknown; openDepth?: number; className?: string; onPick?: (path: string) => void }) {
  return (
    <div data-testid="json-viewer" className={cn("overflow-x-auto rounded-md bg-muted/50 p-3 pl-7 font-mono text-xs leading-5", className)}>
      <JsonNode value={value} path="$" onPick={onPick} depth={0} openDepth={openDepth} last />
    </div>
  );
}
