// The sign-in of this browser tab: the bearer token pasted on the sign-in page, kept in
// sessionStorage (gone when the tab closes, never shared with other tabs), and whether the API
// has asked for one (a 401). With an authenticating proxy in front, the API never answers 401
// and no token is ever asked for.
import { create } from "zustand";
import { createJSONStorage, persist } from "zustand/middleware";

export const TOKEN_STORAGE_KEY = "testmesh-session";

interface SessionState {
  token: string | null;
  /** The API answered 401: the shell shows the sign-in page instead of the page asked for. */
  signInNeeded: boolean;
  signIn: (token: string) => void;
  signOut: () => void;
  /** The API refused `rejected` (the token a request carried, or null): ask for another, unless
   * the tab has signed in with a new one since that request left. */
  requireSignIn: (rejected: string | null) => void;
}

export const useSessionStore = create<SessionState>()(
  persist(
    (set) => ({
      token: null,
      signInNeeded: false,
      signIn: (token) => set({ token: token.trim(), signInNeeded: false }),
      signOut: () => set({ token: null, signInNeeded: true }),
      requireSignIn: (rejected) => set((state) => (state.token === rejected ? { token: null, signInNeeded: true } : {})),
    }),
    {
      name: TOKEN_STORAGE_KEY,
      storage: createJSONStorage(() => sessionStorage),
      partialize: (state) => ({ token: state.token }),
    },
  ),
);

/** The token a request carries and its `Authorization` header (none without a token). */
export function signedRequest(): { token: string | null; headers: Record<string, string> } {
  const token = useSessionStore.getState().token;
  return { token, headers: token ? { authorization: `Bearer ${token}` } : {} };
}
