// The action catalogue as `GET /api/v1/actions` serves it (generated from the engine's own
// definitions), and what the editor makes of it: the palette's groups and each action's
// properties form: one field per config key, its input chosen by the key's type, required keys
// first, alternatives named, and the step a new node starts with.

import type { SpecStep } from "../types";

export type KeyType = "any" | "text" | "duration" | "count" | "flag" | "list" | "map" | "flag_or_map";

export interface ActionKey {
  name: string;
  type: KeyType;
  doc: string;
  required: boolean;
  alternatives: string[];
  fromEnvironment: boolean;
  default: string | null;
  caveat: string | null;
}

export interface ActionInfo {
  name: string;
  aliases: string[];
  group: string;
  description: string;
  keys: ActionKey[];
  required: string[][];
  nestedStepKeys: string[];
  configSchema: Record<string, unknown>;
}

export interface ActionCatalogue {
  groups: { id: string; label: string }[];
  actions: ActionInfo[];
}

/** The input a key gets in the form. */
export type FieldInput = "text" | "number" | "checkbox" | "yaml";

export interface FormField {
  key: string;
  input: FieldInput;
  label: string;
  /** The key's docs: its type, its alternatives, where it may come from. */
  help: string;
  required: boolean;
  placeholder: string;
}

const INPUTS: Record<KeyType, FieldInput> = {
  any: "yaml",
  text: "text",
  duration: "text",
  count: "number",
  flag: "checkbox",
  list: "yaml",
  map: "yaml",
  flag_or_map: "yaml",
};

const PLACEHOLDERS: Partial<Record<KeyType, string>> = { duration: "e.g. 500ms or 2s", list: "- item", map: "key: value" };

/** The properties form of an action: nested step lists are edited on the canvas, not here. */
export function formFields(action: ActionInfo): FormField[] {
  const fields = action.keys
    .filter((key) => !action.nestedStepKeys.includes(key.name))
    .map((key): FormField => {
      const notes = [key.doc];
      if (key.alternatives.length > 0) notes.push(`or ${key.alternatives.map((a) => `\`${a}\``).join(", ")}`);
      if (key.fromEnvironment) notes.push("usually set by the environment's action defaults");
      if (key.default) notes.push(`default ${key.default}`);
      if (key.caveat) notes.push(key.caveat);
      return {
        key: key.name,
        input: INPUTS[key.type],
        label: key.name,
        help: notes.join("; "),
        required: key.required && !key.fromEnvironment,
        placeholder: key.default ?? PLACEHOLDERS[key.type] ?? "",
      };
    });
  return [...fields.filter((f) => f.required), ...fields.filter((f) => !f.required)];
}

/** Finds an action by its name or an alias. */
export function findAction(catalogue: ActionCatalogue | undefined, name: string): ActionInfo | undefined {
  return catalogue?.actions.find((action) => action.name === name || action.aliases.includes(name));
}

/** The actions of each group that match `query` (name, alias or description). */
export function paletteGroups(catalogue: ActionCatalogue, query: string): { id: string; label: string; actions: ActionInfo[] }[] {
  const needle = query.trim().toLowerCase();
  const matches = (action: ActionInfo) =>
    needle === "" || [action.name, action.description, ...action.aliases].some((text) => text.toLowerCase().includes(needle));
  return catalogue.groups
    .map((group) => ({ ...group, actions: catalogue.actions.filter((a) => a.group === group.id && matches(a)) }))
    .filter((group) => group.actions.length > 0);
}

/** A new step of `action` with `id`: the first of each required group present, empty. */
export function newStep(action: ActionInfo, id: string): SpecStep {
  const config: Record<string, unknown> = {};
  for (const group of action.required) {
    const key = action.keys.find((k) => k.name === group[0]);
    if (!key || key.fromEnvironment) continue;
    config[key.name] = action.nestedStepKeys.includes(key.name) || key.type === "list" ? [] : key.type === "map" ? {} : "";
  }
  return { id, action: action.name, config };
}

/** The value a form field's text stands for, by input. */
export function fieldValue(input: FieldInput, raw: string | boolean, parseYaml: (text: string) => unknown): unknown {
  if (input === "checkbox") return raw === true ? true : undefined;
  const text = String(raw);
  if (text.trim() === "") return undefined;
  if (input === "number") return /^\d+$/.test(text.trim()) ? Number(text) : text;
  if (input === "yaml") return parseYaml(text);
  return text;
}
