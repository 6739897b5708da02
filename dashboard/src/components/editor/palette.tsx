// The palette: every action of the catalogue, grouped and searchable, each with its one-line
// description. Drag one onto the canvas, or click it to append it to the steps.
"use client";

import { Search } from "lucide-react";
import { useState } from "react";
import { type ActionCatalogue, paletteGroups } from "@/lib/editor/catalogue";
import { Input } from "../ui/input";
import { ACTION_MIME } from "./canvas";

export function Palette({ catalogue, onPick }: { catalogue: ActionCatalogue; onPick: (action: string) => void }) {
  const [query, setQuery] = useState("");
  const groups = paletteGroups(catalogue, query);
  return (
    <div className="flex h-full flex-col" data-testid="palette">
      <label className="relative mb-2 block">
        <span className="sr-only">Search actions</span>
        <Search className="pointer-events-none absolute top-2.5 left-2.5 size-4 text-muted-foreground" aria-hidden />
        <Input placeholder="Search actions" value={query} onChange={(e) => setQuery(e.target.value)} className="pl-8" />
      </label>
      <div className="min-h-0 flex-1 space-y-3 overflow-y-auto pr-1">
        {groups.length === 0 && <p className="text-xs text-muted-foreground">No action matches “{query}”.</p>}
        {groups.map((group) => (
          <section key={group.id}>
            <h3 className="mb-1 text-[11px] font-semibold uppercase tracking-wide text-muted-foreground">{group.label}</h3>
            <ul className="space-y-1">
              {group.actions.map((action) => (
                <li key={action.name}>
                  <button
                    type="button"
                    draggable
                    data-testid="palette-item"
                    data-action={action.name}
                    onDragStart={(e) => {
                      e.dataTransfer.setData(ACTION_MIME, action.name);
                      e.dataTransfer.effectAllowed = "copy";
                    }}
                    onClick={() => onPick(action.name)}
                    title={`Drag onto the canvas, or click to append. ${action.aliases.length ? `Also: ${action.aliases.join(", ")}` : ""}`}
                    className="w-full cursor-grab rounded-md border border-border bg-card px-2 py-1 text-left hover:bg-accent"
                  >
                    <span className="block font-mono text-xs font-semibold">{action.name}</span>
                    <span className="block text-[11px] leading-tight text-muted-foreground">{action.description}</span>
                  </button>
                </li>
              ))}
            </ul>
          </section>
        ))}
      </div>
    </div>
  );
}
