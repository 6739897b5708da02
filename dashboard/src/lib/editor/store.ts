// The editor's state (Zustand): the YAML text, the last text that parsed (the canvas and the
// form read that one, so a YAML typo leaves them alone), undo and redo over texts, the selected
// step, the step clipboard, and the validator's findings. Typing in one field within a second
// counts as one change for undo.

import { create } from "zustand";
import type { FlowSpec, SpecStep } from "../types";
import { parseFlow, type StepPath } from "./document";

/** A finding of `POST /validate`. */
export interface Finding {
  severity: "error" | "warning";
  message: string;
  line: number | null;
  column: number | null;
  step: string | null;
  field: string | null;
  stepPath: string | null;
  stepField: string | null;
}

export interface ValidationReport {
  valid: boolean;
  flows: number;
  errors: number;
  warnings: number;
  diagnostics: Finding[];
}

const HISTORY = 200;
const COALESCE_MS = 1000;

interface EditorState {
  text: string;
  /** The last text that parsed, and its spec. */
  goodText: string;
  spec: FlowSpec;
  root: string[];
  parseError: { message: string; line: number | null } | null;
  past: string[];
  future: string[];
  lastChange: { key: string; at: number } | null;
  selected: StepPath | null;
  clipboard: SpecStep | null;
  report: ValidationReport | null;
  /** Replaces the text: `coalesce` names an edit whose repeats within a second undo together. */
  setText: (text: string, coalesce?: string) => void;
  /** Loads a new flow, forgetting history. */
  load: (text: string) => void;
  undo: () => void;
  redo: () => void;
  select: (path: StepPath | null) => void;
  copy: (step: SpecStep | null) => void;
  setReport: (report: ValidationReport | null) => void;
}

function parsedState(text: string): Pick<EditorState, "goodText" | "spec" | "root" | "parseError"> | Pick<EditorState, "parseError"> {
  const parsed = parseFlow(text);
  if (!parsed.ok) return { parseError: { message: parsed.error, line: parsed.line } };
  return { goodText: text, spec: parsed.flow.spec, root: parsed.flow.root, parseError: null };
}

export const useEditorStore = create<EditorState>((set, get) => ({
  text: "",
  goodText: "",
  spec: { name: "", steps: [] },
  root: [],
  parseError: null,
  past: [],
  future: [],
  lastChange: null,
  selected: null,
  clipboard: null,
  report: null,
  setText: (text, coalesce) => {
    const state = get();
    if (text === state.text) return;
    const now = Date.now();
    const merge = coalesce !== undefined && state.lastChange?.key === coalesce && now - state.lastChange.at < COALESCE_MS;
    const past = merge ? state.past : [...state.past, state.text].slice(-HISTORY);
    set({ text, past, future: [], lastChange: coalesce ? { key: coalesce, at: now } : null, ...parsedState(text) });
  },
  load: (text) => set({ text, past: [], future: [], lastChange: null, selected: null, report: null, ...parsedState(text) }),
  undo: () => {
    const { past, text, future } = get();
    if (past.length === 0) return;
    const previous = past[past.length - 1];
    set({ text: previous, past: past.slice(0, -1), future: [text, ...future], lastChange: null, ...parsedState(previous) });
  },
  redo: () => {
    const { past, text, future } = get();
    if (future.length === 0) return;
    const [next, ...rest] = future;
    set({ text: next, past: [...past, text], future: rest, lastChange: null, ...parsedState(next) });
  },
  select: (selected) => set({ selected }),
  copy: (clipboard) => set({ clipboard }),
  setReport: (report) => set({ report }),
}));
