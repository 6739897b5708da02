// The sign-in page, shown in place of any page when the API answers 401: paste a token the
// cluster accepts (the kubectl line to make one is there to copy). And the shell's corner that
// names who is signed in, with sign-out.
"use client";

import { useQueryClient } from "@tanstack/react-query";
import { Copy, LogOut, UserRound } from "lucide-react";
import { type FormEvent, useState } from "react";
import { Button } from "@/components/ui/button";
import { useSession } from "@/lib/queries";
import { useSessionStore } from "@/lib/session";

export const CREATE_TOKEN_COMMAND = "kubectl create token <service-account> -n <namespace> --duration 8h";

export function SignIn() {
  const signIn = useSessionStore((session) => session.signIn);
  const client = useQueryClient();
  const [token, setToken] = useState("");
  const [copied, setCopied] = useState(false);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (token.trim() === "") return;
    signIn(token);
    void client.resetQueries();
  };
  const copy = () => {
    void navigator.clipboard?.writeText(CREATE_TOKEN_COMMAND).then(() => setCopied(true));
  };
  return (
    <form aria-label="Sign in" onSubmit={submit} className="mx-auto flex max-w-xl flex-col gap-4 rounded-lg border border-border bg-card p-6">
      <h1 className="text-xl font-semibold tracking-tight">Sign in to TestMesh</h1>
      <p className="text-sm text-muted-foreground">
        The API asks Kubernetes who you are and shows the namespaces where you may read TestFlows. Paste a token the cluster accepts, such as a
        ServiceAccount token:
      </p>
      <div className="flex items-center gap-2 rounded-md bg-muted px-3 py-2">
        <code data-testid="create-token-command" className="min-w-0 flex-1 font-mono text-xs break-all">
          {CREATE_TOKEN_COMMAND}
        </code>
        <Button type="button" variant="ghost" size="icon" onClick={copy} aria-label="Copy the command" title={copied ? "Copied" : "Copy"}>
          <Copy />
        </Button>
      </div>
      <label htmlFor="token" className="text-sm font-medium">
        Token
      </label>
      <textarea
        id="token"
        name="token"
        value={token}
        onChange={(event) => setToken(event.target.value)}
        rows={4}
        autoComplete="off"
        spellCheck={false}
        className="rounded-md border border-input bg-background px-3 py-2 font-mono text-xs focus-visible:ring-2 focus-visible:ring-ring focus-visible:outline-none"
      />
      <div>
        <Button type="submit" disabled={token.trim() === ""}>
          Sign in
        </Button>
      </div>
      <p className="text-xs text-muted-foreground">The token stays in this tab (sessionStorage) and is forgotten when you sign out or close the tab.</p>
    </form>
  );
}

/** The signed-in user and groups, and sign-out when this tab holds a token. */
export function SessionBadge() {
  const token = useSessionStore((session) => session.token);
  const signOut = useSessionStore((session) => session.signOut);
  const client = useQueryClient();
  const session = useSession();
  const user = session.data?.user ?? null;
  if (user === null && token === null) return null;
  return (
    <div data-testid="session" className="flex items-center gap-2 border-t border-border px-4 py-3 text-sm">
      <UserRound className="size-4 shrink-0 text-muted-foreground" aria-hidden />
      <div className="min-w-0 flex-1">
        {user !== null && <div className="truncate font-medium">{user}</div>}
        {session.data && session.data.groups.length > 0 && (
          <div className="truncate text-xs text-muted-foreground" title={session.data.groups.join(", ")}>
            {session.data.groups.join(", ")}
          </div>
        )}
      </div>
      {token !== null && (
        <Button
          variant="ghost"
          size="icon"
          aria-label="Sign out"
          title="Sign out"
          onClick={() => {
            signOut();
            client.clear();
          }}
        >
          <LogOut />
        </Button>
      )}
    </div>
  );
}
