// UI state that outlives a page: the theme (persisted) and the list filters.
import { create } from "zustand";
import { persist } from "zustand/middleware";

export type Theme = "light" | "dark";

interface ThemeState {
  theme: Theme;
  setTheme: (theme: Theme) => void;
  toggle: () => void;
}

export const THEME_STORAGE_KEY = "testmesh-theme";

export const useThemeStore = create<ThemeState>()(
  persist(
    (set, get) => ({
      theme: typeof window !== "undefined" && window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light",
      setTheme: (theme) => set({ theme }),
      toggle: () => set({ theme: get().theme === "dark" ? "light" : "dark" }),
    }),
    { name: THEME_STORAGE_KEY },
  ),
);

export interface ExecutionFilters {
  status: string;
  namespace: string;
  flow: string;
  trigger: string;
  environment: string;
  range: string;
}

export const EMPTY_EXECUTION_FILTERS: ExecutionFilters = { status: "", namespace: "", flow: "", trigger: "", environment: "", range: "" };

export interface FlowFilters {
  q: string;
  namespace: string;
  tag: string;
}

interface FilterState {
  executions: ExecutionFilters;
  flows: FlowFilters;
  setExecutionFilter: (key: keyof ExecutionFilters, value: string) => void;
  replaceExecutionFilters: (filters: Partial<ExecutionFilters>) => void;
  setFlowFilter: (key: keyof FlowFilters, value: string) => void;
}

export const useFilterStore = create<FilterState>()((set) => ({
  executions: EMPTY_EXECUTION_FILTERS,
  flows: { q: "", namespace: "", tag: "" },
  setExecutionFilter: (key, value) => set((state) => ({ executions: { ...state.executions, [key]: value } })),
  replaceExecutionFilters: (filters) => set({ executions: { ...EMPTY_EXECUTION_FILTERS, ...filters } }),
  setFlowFilter: (key, value) => set((state) => ({ flows: { ...state.flows, [key]: value } })),
}));

/** The `from` time for a range preset ("1h", "24h", "7d", "30d"), or undefined for all time. */
export function rangeStart(range: string, now: number = Date.now()): string | undefined {
  const match = /^(\d+)([hd])$/.exec(range);
  if (!match) return undefined;
  const hours = Number(match[1]) * (match[2] === "d" ? 24 : 1);
  return new Date(now - hours * 3_600_000).toISOString();
}
