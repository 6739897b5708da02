import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";
import { AppShell } from "@/components/app-shell";
import { THEME_STORAGE_KEY } from "@/lib/store";
import "./globals.css";
import { Providers } from "./providers";

export const metadata: Metadata = {
  title: "TestMesh",
  description: "Integration test runs: history, trends, flaky flows and live runs",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

// Sets the theme class before the first paint, so a dark page never flashes white.
const themeScript = `try{var s=JSON.parse(localStorage.getItem(${JSON.stringify(THEME_STORAGE_KEY)})||"null");var t=s&&s.state&&s.state.theme;if(!t){t=matchMedia("(prefers-color-scheme: dark)").matches?"dark":"light"}if(t==="dark"){document.documentElement.classList.add("dark")}}catch(e){}`;

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en" suppressHydrationWarning>
      <head>
        <script dangerouslySetInnerHTML={{ __html: themeScript }} />
      </head>
      <body className="font-sans antialiased">
        <Providers>
          <AppShell>{children}</AppShell>
        </Providers>
      </body>
    </html>
  );
}
