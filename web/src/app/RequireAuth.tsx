/** Route guards: the app needs a session; /login and /register are for people without one. */
import { Navigate, Outlet, useLocation } from "react-router";
import { PageLoading } from "../components";
import { useAuthStore } from "../auth/store";
import { useReturnTo } from "../auth/returnTo";

export function RequireAuth() {
  const status = useAuthStore((s) => s.status);
  const location = useLocation();
  if (status === "restoring") return <PageLoading label="Restoring your session…" />;
  if (status === "anonymous") {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <Outlet />;
}

export function RequireAnonymous() {
  const status = useAuthStore((s) => s.status);
  const to = useReturnTo();
  if (status === "restoring") return <PageLoading label="Restoring your session…" />;
  if (status === "authenticated") return <Navigate to={to} replace />;
  return <Outlet />;
}
