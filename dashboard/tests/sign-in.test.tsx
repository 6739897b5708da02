import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { ReactNode } from "react";
import { AppShell } from "@/components/app-shell";
import { ErrorState } from "@/components/page-states";
import { ApiError, apiGet } from "@/lib/api";
import { TOKEN_STORAGE_KEY, useSessionStore } from "@/lib/session";

vi.mock("next/navigation", () => ({ usePathname: () => "/" }));

/** A fetch that answers 401 without `Bearer good-token`, and the session or a list with it. */
function api() {
  return vi.fn(async (url: string | URL | Request, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
    if (headers.get("authorization") !== "Bearer good-token") {
      return json(401, { error: { code: "unauthorized", message: "a bearer token is required" } });
    }
    if (String(url).endsWith("/session")) return json(200, { user: "alice", groups: ["team-qa", "system:authenticated"], namespaces: ["qa"] });
    return json(200, { items: [] });
  });
}

function Page() {
  return <p>the overview</p>;
}

function shell(children: ReactNode) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <QueryClientProvider client={client}>
      <AppShell>{children}</AppShell>
    </QueryClientProvider>,
  );
}

beforeEach(() => {
  sessionStorage.clear();
  useSessionStore.setState({ token: null, signInNeeded: false });
});
afterEach(() => vi.unstubAllGlobals());

describe("sign-in", () => {
  it("shows the sign-in page once the API answers 401, with the kubectl line to copy", async () => {
    const fetch = api();
    vi.stubGlobal("fetch", fetch);
    shell(<Page />);
    expect(screen.getByText("the overview")).toBeInTheDocument();
    await act(async () => {
      await apiGet("/overview").catch(() => undefined);
    });
    expect(screen.getByRole("form", { name: "Sign in" })).toBeInTheDocument();
    expect(screen.queryByText("the overview")).not.toBeInTheDocument();
    expect(screen.getByTestId("create-token-command")).toHaveTextContent("kubectl create token");
  });

  it("keeps the pasted token in sessionStorage, sends it, and names the user and groups", async () => {
    const fetch = api();
    vi.stubGlobal("fetch", fetch);
    useSessionStore.setState({ signInNeeded: true });
    shell(<Page />);
    fireEvent.change(screen.getByLabelText("Token"), { target: { value: "  good-token\n" } });
    fireEvent.click(screen.getByRole("button", { name: "Sign in" }));
    expect(await screen.findByText("the overview")).toBeInTheDocument();
    expect(JSON.parse(sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? "{}").state.token).toBe("good-token");
    expect(await screen.findByText("alice")).toBeInTheDocument();
    expect(screen.getByTestId("session")).toHaveTextContent("team-qa, system:authenticated");
    const sessionCalls = fetch.mock.calls.filter(([url]) => String(url).endsWith("/session"));
    expect(new Headers(sessionCalls.at(-1)?.[1]?.headers).get("authorization")).toBe("Bearer good-token");
  });

  it("forgets the token at sign-out and asks again", async () => {
    vi.stubGlobal("fetch", api());
    useSessionStore.setState({ token: "good-token" });
    shell(<Page />);
    fireEvent.click(await screen.findByRole("button", { name: "Sign out" }));
    await waitFor(() => expect(screen.getByRole("form", { name: "Sign in" })).toBeInTheDocument());
    expect(JSON.parse(sessionStorage.getItem(TOKEN_STORAGE_KEY) ?? "{}").state.token).toBeNull();
    expect(screen.queryByTestId("session")).not.toBeInTheDocument();
  });

  it("says which namespace a direct link may not show", () => {
    render(<ErrorState error={new ApiError("forbidden", "you do not have access to namespace billing", 403)} />);
    expect(screen.getByRole("alert")).toHaveTextContent("No access");
    expect(screen.getByRole("alert")).toHaveTextContent("you do not have access to namespace billing");
  });
});
