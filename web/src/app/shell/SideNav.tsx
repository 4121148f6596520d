import { NavLink } from "react-router";
import { CountBadge, Icon } from "../../components";
import { useApprovals } from "../../api/queries";
import { cn } from "../../lib/cn";
import { usePermissions } from "../../lib/usePermissions";
import { NAV_ITEMS } from "./nav";

export function SideNav() {
  const { can, loaded } = usePermissions();
  const approvals = useApprovals(can("runs_read"));
  const pending = approvals.data?.items.length ?? 0;
  return (
    <nav aria-label="Main" className="flex-1 overflow-y-auto px-2 py-2">
      <ul className="space-y-0.5">
        {NAV_ITEMS.filter((i) => !loaded || can(i.needs)).map((item) => (
          <li key={item.to}>
            <NavLink
              to={item.to}
              className={({ isActive }) =>
                cn(
                  "flex items-center gap-3 rounded-md px-3 py-2 text-sm font-medium",
                  "focus-visible:outline-2 focus-visible:outline-offset-1 focus-visible:outline-indigo-500",
                  isActive
                    ? "bg-indigo-100 text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200"
                    : "text-slate-700 hover:bg-slate-200/60 dark:text-slate-300 dark:hover:bg-slate-800",
                )
              }
            >
              <Icon name={item.icon} className="size-4.5" />
              <span>{item.label}</span>
              {item.to === "/approvals" && (
                <CountBadge count={pending} label={`${pending} tool ${pending === 1 ? "call" : "calls"} waiting for approval`} />
              )}
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}
