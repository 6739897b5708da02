// The frame around every page: the navigation (a sidebar on a laptop, a scrolling bar on a phone),
// the theme toggle and who is signed in; the sign-in page in place of the page when the API asks.
"use client";

import { Activity, CalendarClock, Gauge, Moon, Server, Sun, Workflow } from "lucide-react";
import Link from "next/link";
import { usePathname } from "next/navigation";
import { type ReactNode, useEffect, useState } from "react";
import { SessionBadge, SignIn } from "@/components/sign-in";
import { Button } from "@/components/ui/button";
import { useSessionStore } from "@/lib/session";
import { useThemeStore } from "@/lib/store";
import { cn } from "@/lib/utils";

const NAV = [
  { href: "/", label: "Overview", Icon: Gauge },
  { href: "/flows/", label: "Flows", Icon: Workflow },
  { href: "/executions/", label: "Executions", Icon: Activity },
  { href: "/schedules/", label: "Schedules", Icon: CalendarClock },
  { href: "/environments/", label: "Environments", Icon: Server },
];

function isCurrent(pathname: string, href: string): boolean {
  if (href === "/") return pathname === "/";
  return pathname.startsWith(href.replace(/\/$/, ""));
}

export function ThemeToggle() {
  const theme = useThemeStore((state) => state.theme);
  const toggle = useThemeStore((state) => state.toggle);
  // The stored theme is known only in the browser: render the icon after mounting so the
  // prerendered HTML and the first client render agree.
  const [mounted, setMounted] = useState(false);
  useEffect(() => setMounted(true), []);
  const next = theme === "dark" ? "light" : "dark";
  if (!mounted) return <span className="size-9" aria-hidden />;
  return (
    <Button variant="ghost" size="icon" onClick={toggle} aria-label={`Switch to ${next} theme`} title={`Switch to ${next} theme`}>
      {theme === "dark" ? <Sun /> : <Moon />}
    </Button>
  );
}

export function AppShell({ children }: { children: ReactNode }) {
  const pathname = usePathname() ?? "/";
  const signInNeeded = useSessionStore((session) => session.signInNeeded);
  return (
    <div className="min-h-screen md:grid md:grid-cols-[13rem_1fr]">
      <aside className="sticky top-0 z-20 border-b border-border bg-card md:static md:border-r md:border-b-0">
        <div className="md:sticky md:top-0">
        <div className="flex items-center justify-between px-4 py-3">
          <Link href="/" className="flex items-center gap-2 font-semibold">
            <span className="grid size-7 place-items-center rounded-md bg-primary text-xs text-primary-foreground">TM</span>
            TestMesh
          </Link>
          <ThemeToggle />
        </div>
        <nav aria-label="Main" className="flex gap-1 overflow-x-auto px-2 pb-2 md:flex-col md:overflow-visible">
          {NAV.map(({ href, label, Icon }) => (
            <Link
              key={href}
              href={href}
              aria-current={isCurrent(pathname, href) ? "page" : undefined}
              className={cn(
                "flex shrink-0 items-center gap-2 rounded-md px-3 py-2 text-sm text-muted-foreground hover:bg-accent hover:text-accent-foreground",
                isCurrent(pathname, href) && "bg-accent font-medium text-accent-foreground",
              )}
            >
              <Icon className="size-4" aria-hidden />
              {label}
            </Link>
          ))}
        </nav>
        <SessionBadge />
        </div>
      </aside>
      <main className="min-w-0 p-4 md:p-6">{signInNeeded ? <SignIn /> : children}</main>
    </div>
  );
}

export function PageHeader({ title, description, actions }: { title: ReactNode; description?: ReactNode; actions?: ReactNode }) {
  return (
    <div className="mb-4 flex flex-col gap-2 sm:flex-row sm:items-end sm:justify-between">
      <div className="min-w-0">
        <h1 className="truncate text-xl font-semibold tracking-tight">{title}</h1>
        {description && <div className="text-sm text-muted-foreground">{description}</div>}
      </div>
      {actions && <div className="flex shrink-0 gap-2">{actions}</div>}
    </div>
  );
}
