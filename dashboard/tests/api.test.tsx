import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { render, screen } from "@testing-library/react";
import OverviewPage from "@/app/page";
import { ErrorState } from "@/components/page-states";
import { ApiError, apiGet, apiUrl } from "@/lib/api";

function answer(status: number, body: string, contentType = "application/json") {
  return vi.fn(async () => new Response(body, { status, headers: { "content-type": contentType } }));
}

afterEach(() => vi.unstubAllGlobals());

describe("apiGet", () => {
  it("builds same-origin URLs under /api/v1 and drops empty parameters", () => {
    expect(apiUrl("/executions", { status: "failed", flow: "", cursor: undefined, limit: 25 })).toBe("/api/v1/executions?status=failed&limit=25");
  });

  it("returns the JSON of a successful answer", async () => {
    vi.stubGlobal("fetch", answer(200, JSON.stringify({ items: [] })));
    await expect(apiGet("/flows")).resolves.toEqual({ items: [] });
  });

  it("turns the API's error JSON into an ApiError with its code and message", async () => {
    vi.stubGlobal("fetch", answer(400, JSON.stringify({ error: { code: "bad_parameter", message: "status: unknown status \"bogus\"" } })));
    const error = await apiGet("/executions", { status: "bogus" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: "bad_parameter", status: 400, message: 'status: unknown status "bogus"' });
  });

  it("names the HTTP status when the answer is not the API's JSON (a proxy's 502 page)", async () => {
    vi.stubGlobal("fetch", answer(502, "<html>Bad Gateway</html>", "text/html"));
    await expect(apiGet("/overview")).rejects.toMatchObject({ code: "http_502", status: 502 });
  });

  it("says the API could not be reached when the request itself fails", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn(async () => {
        throw new TypeError("Failed to fetch");
      }),
    );
    await expect(apiGet("/overview")).rejects.toMatchObject({ code: "unreachable", message: "Could not reach the TestMesh API at /api/v1" });
  });

  it("rejects a successful answer that is not JSON", async () => {
    vi.stubGlobal("fetch", answer(200, "<html></html>", "text/html"));
    await expect(apiGet("/overview")).rejects.toMatchObject({ code: "bad_response" });
  });
});

describe("error state", () => {
  it("shows the message and the code", () => {
    render(<ErrorState error={new ApiError("not_found", "execution run-1 not found", 404)} />);
    expect(screen.getByRole("alert")).toHaveTextContent("execution run-1 not found");
    expect(screen.getByRole("alert")).toHaveTextContent("code: not_found");
  });

  it("shows an API error on the page that asked", async () => {
    vi.stubGlobal("fetch", answer(503, JSON.stringify({ error: { code: "store_unavailable", message: "the database is not reachable" } })));
    const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    render(
      <QueryClientProvider client={client}>
        <OverviewPage />
      </QueryClientProvider>,
    );
    expect(await screen.findByText("the database is not reachable")).toBeInTheDocument();
    expect(screen.getByText("code: store_unavailable")).toBeInTheDocument();
  });
});
