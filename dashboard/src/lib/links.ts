// Where each object lives in the static export: keys travel in the query string.

export function executionHref(runId: string): string {
  return `/executions/view/?id=${encodeURIComponent(runId)}`;
}

export function flowHref(namespace: string, name: string): string {
  return `/flows/view/?ns=${encodeURIComponent(namespace)}&name=${encodeURIComponent(name)}`;
}

export function flowExecutionsHref(namespace: string, name: string): string {
  return `/executions/?namespace=${encodeURIComponent(namespace)}&flow=${encodeURIComponent(name)}`;
}

/** The flow editor, on a copy of a TestFlow when one is named. */
export function editorHref(namespace?: string, name?: string): string {
  return namespace && name ? `/flows/new/?namespace=${encodeURIComponent(namespace)}&name=${encodeURIComponent(name)}` : "/flows/new/";
}
