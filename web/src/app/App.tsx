/**
 * Providers and the route table. Every page is its own lazily loaded chunk (`React.lazy`), so the entry bundle
 * holds only the shell, the router, the query client and the auth code.
 */
import { QueryClientProvider } from "@tanstack/react-query";
import { Suspense } from "react";
import { BrowserRouter, Navigate, Route, Routes } from "react-router";
import { PageLoading, Toaster, TooltipProvider } from "../components";
import { queryClient } from "../lib/queryClient";
import { usePermissions } from "../lib/usePermissions";
import { RequireAuth, RequireAnonymous } from "./RequireAuth";
import { AppShell } from "./shell/AppShell";
import { pages } from "./pages";

/** The start page: the chat for roles that may use it, the detections otherwise (viewers). */
function Home() {
  const { can, loaded } = usePermissions();
  if (!loaded) return <PageLoading />;
  return <Navigate to={can("chats_use") ? "/chat" : "/detections"} replace />;
}

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <TooltipProvider>
        <BrowserRouter>
          <Suspense fallback={<PageLoading />}>
            <Routes>
              {/* With or without a session: the page offers sign-in, or accepts. */}
              <Route path="/invitations/accept" element={<pages.AcceptInvitation />} />
              <Route element={<RequireAnonymous />}>
                <Route path="/login" element={<pages.Login />} />
                <Route path="/register" element={<pages.Register />} />
              </Route>
              <Route element={<RequireAuth />}>
                <Route element={<AppShell />}>
                  <Route index element={<Home />} />
                  <Route path="/chat" element={<pages.Chat />} />
                  <Route path="/chat/:chatId" element={<pages.Chat />} />
                  <Route path="/approvals" element={<pages.Approvals />} />
                  <Route path="/agents" element={<pages.Agents />} />
                  <Route path="/agents/new" element={<pages.AgentNew />} />
                  <Route path="/agents/:agentId" element={<pages.AgentDetail />} />
                  <Route path="/runs/:runId" element={<pages.Run />} />
                  <Route path="/detections" element={<pages.Detections />} />
                  <Route path="/detections/rules" element={<pages.DetectionRules />} />
                  <Route path="/detections/:detectionId" element={<pages.DetectionDetail />} />
                  <Route path="/coverage" element={<pages.Coverage />} />
                  <Route path="/audit" element={<pages.Audit />} />
                  <Route path="/settings/*" element={<pages.Settings />} />
                  <Route path="*" element={<pages.NotFound />} />
                </Route>
              </Route>
            </Routes>
          </Suspense>
        </BrowserRouter>
      </TooltipProvider>
      <Toaster />
    </QueryClientProvider>
  );
}
