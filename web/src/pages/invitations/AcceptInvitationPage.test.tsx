/** The invitation page without a session, as static markup (the test environment has no DOM). */
import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { renderToStaticMarkup } from "react-dom/server";
import { MemoryRouter } from "react-router";
import { describe, expect, it, vi } from "vitest";
import type { AuthStatus } from "../../auth/store";
import { AcceptInvitationPage } from "./AcceptInvitationPage";

// Server rendering reads a zustand store's initial state ("restoring"): give the page the status under test.
const auth = vi.hoisted((): { status: AuthStatus } => ({ status: "anonymous" }));
vi.mock("../../auth/store", () => {
  const state = () => ({ status: auth.status, session: null, lostReason: null, setSession: () => undefined, clear: () => undefined });
  const useAuthStore = <T,>(select: (s: ReturnType<typeof state>) => T): T => select(state());
  useAuthStore.getState = state;
  return { useAuthStore, accessToken: () => null };
});

function render(url: string, status: AuthStatus = "anonymous"): string {
  auth.status = status;
  return renderToStaticMarkup(
    <QueryClientProvider client={new QueryClient()}>
      <MemoryRouter initialEntries={[url]}>
        <AcceptInvitationPage />
      </MemoryRouter>
    </QueryClientProvider>,
  );
}

describe("the invitation page, signed out", () => {
  it("prefills the token from the link and offers sign-in and registration", () => {
    const html = render("/invitations/accept?token=tok-123");
    expect(html).toMatch(/<h1[^>]*>Accept an invitation<\/h1>/);
    expect(html).toMatch(/<input[^>]*value="tok-123"/);
    expect(html).toMatch(/<a[^>]*href="\/login"[^>]*>Sign in to accept<\/a>/);
    expect(html).toContain('href="/register"');
    expect(html).not.toContain(">Accept invitation<");
  });

  it("asks for the token when the link has none", () => {
    expect(render("/invitations/accept")).toMatch(/>Invitation token<\/label><input[^>]*value=""/);
  });

  it("waits while the session is being restored", () => {
    expect(render("/invitations/accept?token=t", "restoring")).toContain("Restoring your session");
  });
});

describe("the invitation page, signed in", () => {
  it("offers to accept", () => {
    const html = render("/invitations/accept?token=tok-123", "authenticated");
    expect(html).toMatch(/<button[^>]*type="submit"[^>]*>Accept invitation<\/button>/);
    expect(html).toMatch(/<input[^>]*value="tok-123"/);
  });
});
