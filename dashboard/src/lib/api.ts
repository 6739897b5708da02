// The API client: GET and POST helpers that send this tab's token (see session.ts) and turns every
// failure (an error JSON, a non-JSON answer, an unreachable server) into an ApiError whose
// message a person can read. A 401 asks the shell for the sign-in page.
import { signedRequest, useSessionStore } from "./session";

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Same-origin `/api/v1` unless NEXT_PUBLIC_API_BASE points elsewhere (development). */
export function apiBase(): string {
  const configured = process.env.NEXT_PUBLIC_API_BASE;
  return (configured && configured.trim() !== "" ? configured : "/api/v1").replace(/\/+$/, "");
}

export type Params = Record<string, string | number | null | undefined>;

export function apiUrl(path: string, params: Params = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") query.set(key, String(value));
  }
  const text = query.toString();
  return `${apiBase()}${path}${text ? `?${text}` : ""}`;
}

function isErrorBody(body: unknown): body is { error: { code?: unknown; message?: unknown } } {
  return typeof body === "object" && body !== null && "error" in body && typeof body.error === "object" && body.error !== null;
}

export async function apiGet<T>(path: string, params: Params = {}, signal?: AbortSignal): Promise<T> {
  return apiRequest<T>(path, params, {}, signal);
}

/** POSTs `body` (YAML text, or JSON for an object) and reads the JSON answer. */
export async function apiPost<T>(path: string, body: string | object, signal?: AbortSignal): Promise<T> {
  const yaml = typeof body === "string";
  return apiRequest<T>(
    path,
    {},
    { method: "POST", body: yaml ? body : JSON.stringify(body), headers: { "content-type": yaml ? "application/yaml" : "application/json" } },
    signal,
  );
}

async function apiRequest<T>(path: string, params: Params, init: RequestInit & { headers?: Record<string, string> }, signal?: AbortSignal): Promise<T> {
  const url = apiUrl(path, params);
  const signed = signedRequest();
  let response: Response;
  try {
    response = await fetch(url, { ...init, headers: { accept: "application/json", ...init.headers, ...signed.headers }, signal });
  } catch (cause) {
    if (signal?.aborted) throw cause;
    throw new ApiError("unreachable", `Could not reach the TestMesh API at ${apiBase()}`, null);
  }
  const text = await response.text();
  let body: unknown = undefined;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    if (response.status === 401) useSessionStore.getState().requireSignIn(signed.token);
    if (isErrorBody(body)) {
      const code = typeof body.error.code === "string" ? body.error.code : `http_${response.status}`;
      const message = typeof body.error.message === "string" ? body.error.message : response.statusText;
      throw new ApiError(code, message, response.status);
    }
    throw new ApiError(`http_${response.status}`, `The API answered ${response.status} ${response.statusText}`.trim(), response.status);
  }
  if (body === undefined) {
    throw new ApiError("bad_response", `The API answered ${path} with something that is not JSON`, response.status);
  }
  return body as T;
}
