// Export: the flow file, or a TestFlow manifest (namespace, name, environment, optionally a
// TestSchedule beside it), to download or copy, with the `kubectl apply -f` line. Nothing is
// written to the cluster: the file goes to Git.
"use client";

import { Check, Clipboard, Download } from "lucide-react";
import { useState } from "react";
import { flowFile, kubectlLine, manifest, type ManifestOptions, resourceName } from "@/lib/editor/export";
import { useEditorStore } from "@/lib/editor/store";
import { Button } from "../ui/button";
import { Dialog } from "../ui/dialog";
import { Input } from "../ui/input";

function download(name: string, text: string) {
  const url = URL.createObjectURL(new Blob([text], { type: "application/yaml" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.click();
  URL.revokeObjectURL(url);
}

export function ExportDialog({ open, onClose, initial }: { open: boolean; onClose: () => void; initial: Partial<ManifestOptions> }) {
  const text = useEditorStore((s) => s.goodText);
  const spec = useEditorStore((s) => s.spec);
  const [kind, setKind] = useState<"manifest" | "flow">("manifest");
  const [options, setOptions] = useState<ManifestOptions>({ namespace: "default", name: "", environment: "", schedule: "", timeZone: "", ...initial });
  const [copied, setCopied] = useState(false);
  const name = options.name.trim() || resourceName(spec.name ?? "");
  const file = kind === "manifest" ? `${name}.testflow.yaml` : `${name}.yaml`;
  const output = kind === "manifest" ? manifest(text, options) : flowFile(text);
  const field = (key: keyof ManifestOptions, label: string, placeholder = "") => (
    <label className="space-y-0.5 text-xs">
      <span className="font-medium">{label}</span>
      <Input aria-label={label} placeholder={placeholder} value={options[key]} onChange={(e) => setOptions({ ...options, [key]: e.target.value })} />
    </label>
  );
  return (
    <Dialog title="Export for Git" open={open} onClose={onClose}>
      <div className="mb-3 flex gap-3 text-sm" role="radiogroup" aria-label="Export as">
        <label className="flex items-center gap-1">
          <input type="radio" checked={kind === "manifest"} onChange={() => setKind("manifest")} /> TestFlow manifest
        </label>
        <label className="flex items-center gap-1">
          <input type="radio" checked={kind === "flow"} onChange={() => setKind("flow")} /> Flow file (testmesh run)
        </label>
      </div>
      {kind === "manifest" && (
        <div className="mb-3 grid grid-cols-2 gap-2">
          {field("namespace", "Namespace", "default")}
          {field("name", "Name", resourceName(spec.name ?? ""))}
          {field("environment", "Environment (environmentRef)", "staging")}
          {field("schedule", "Schedule (cron, adds a TestSchedule)", "0 6 * * *")}
          {options.schedule.trim() !== "" && field("timeZone", "Time zone", "Europe/Berlin")}
        </div>
      )}
      <pre data-testid="export-output" className="max-h-72 overflow-auto rounded-md border border-border bg-muted p-2 font-mono text-xs">
        {output}
      </pre>
      <p className="mt-2 font-mono text-xs" data-testid="kubectl-line">
        {kind === "manifest" ? kubectlLine(file) : `testmesh run ${file}`}
      </p>
      <div className="mt-3 flex gap-2">
        <Button size="sm" onClick={() => download(file, output)}>
          <Download /> Download {file}
        </Button>
        <Button
          size="sm"
          variant="outline"
          onClick={async () => {
            await navigator.clipboard?.writeText(output);
            setCopied(true);
            setTimeout(() => setCopied(false), 1500);
          }}
        >
          {copied ? <Check /> : <Clipboard />} Copy
        </Button>
      </div>
    </Dialog>
  );
}
