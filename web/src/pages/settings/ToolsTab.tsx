/**
 * Tool configurations: list, create, edit, delete (with the version read), test the connection; and the
 * server's built-in tools for reference.
 */
import { useState } from "react";
import { isVersionConflict } from "../../api/problem";
import {
  Badge,
  Button,
  ConfirmDialog,
  Dialog,
  EmptyState,
  ErrorState,
  JsonView,
  PagedList,
  ProblemMessage,
  RelativeTime,
  Spinner,
  Table,
  toast,
  type Column,
} from "../../components";
import { usePermissions } from "../../lib/usePermissions";
import {
  useDeleteToolConfig,
  useTestToolConfig,
  useToolCatalogue,
  useToolConfigs,
  type ToolConfigView,
  type ToolKindView,
} from "./queries";
import { CreateToolConfigDialog, EditToolConfigDialog, RiskBadge } from "./ToolConfigDialog";
import { DefinitionList, Section } from "./ui";

export function ToolsTab() {
  const { can } = usePermissions();
  const manage = can("tools_manage");
  const catalogue = useToolCatalogue();
  const configs = useToolConfigs();
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<ToolConfigView | null>(null);
  const [viewing, setViewing] = useState<ToolConfigView | null>(null);
  // The row as read when "Delete" was pressed; its version goes with the request.
  const [deleting, setDeleting] = useState<ToolConfigView | null>(null);
  const rows = configs.data?.pages.flatMap((p) => p.items) ?? [];
  const kinds = catalogue.data?.kinds ?? [];

  const columns: Column<ToolConfigView>[] = [
    { key: "name", header: "Name", cell: (c) => <span className="font-mono font-medium">{c.name}</span> },
    { key: "kind", header: "Kind", cell: (c) => <Badge>{c.kind}</Badge> },
    { key: "tools", header: "Tools", hideOnMobile: true, cell: (c) => <ToolNames names={c.tools} /> },
    {
      key: "credentials",
      header: "Credentials",
      cell: (c) => (c.has_credentials ? <Badge tone="success">Stored</Badge> : <Badge>None</Badge>),
    },
    {
      key: "egress",
      header: "Egress",
      hideOnMobile: true,
      cell: (c) =>
        c.egress_allow.length === 0 ? (
          <span className="text-slate-500">Public only</span>
        ) : (
          <span className="font-mono text-xs" title={c.egress_allow.join(", ")}>
            {c.egress_allow.length === 1 ? c.egress_allow[0] : `${c.egress_allow.length} ranges`}
          </span>
        ),
    },
    { key: "updated", header: "Updated", hideOnMobile: true, cell: (c) => <RelativeTime date={c.updated_at} /> },
    {
      key: "actions",
      header: <span className="sr-only">Actions</span>,
      className: "text-right whitespace-nowrap",
      cell: (c) =>
        manage ? (
          <span className="inline-flex gap-1">
            <TestAction config={c} />
            <Button size="sm" variant="ghost" aria-label={`Edit ${c.name}`} disabled={catalogue.isPending} onClick={() => setEditing(c)}>
              Edit
            </Button>
            <Button size="sm" variant="ghost" aria-label={`Delete ${c.name}`} onClick={() => setDeleting(c)}>
              Delete
            </Button>
          </span>
        ) : (
          <Button size="sm" variant="ghost" aria-label={`View ${c.name}`} onClick={() => setViewing(c)}>
            View
          </Button>
        ),
    },
  ];

  return (
    <div className="space-y-10">
      <Section
        id="settings-tools"
        title="Tool configurations"
        description="Connections to the services agents act on (SIEM, ticketing, chat, EDR, threat intelligence, MCP servers, HTTP APIs). Credentials are encrypted and never shown again."
        actions={
          manage && (
            <Button variant="primary" icon="plus" disabled={!catalogue.data} onClick={() => setCreating(true)}>
              New tool configuration
            </Button>
          )
        }
      >
        {catalogue.isError && <ErrorState error={catalogue.error} title="Cannot load the tool catalogue" onRetry={() => void catalogue.refetch()} compact />}
        <PagedList query={configs} count={rows.length} lines={4} what="configurations">
          <Table
            caption="Tool configurations"
            rows={rows}
            rowKey={(c) => c.id}
            columns={columns}
            empty={
              <EmptyState
                icon="tool"
                title="No tool configurations"
                description={manage ? "Connect a service to give agents its tools." : "Admins connect services here to give agents their tools."}
                {...(manage && catalogue.data ? { action: <Button onClick={() => setCreating(true)}>New tool configuration</Button> } : {})}
              />
            }
          />
        </PagedList>
      </Section>

      {catalogue.data && <BuiltinTools tools={catalogue.data.builtin} kinds={kinds} />}

      {creating && <CreateToolConfigDialog kinds={kinds} onClose={() => setCreating(false)} />}
      {editing && <EditToolConfigDialog id={editing.id} name={editing.name} kinds={kinds} onClose={() => setEditing(null)} />}
      {viewing && <ViewDialog config={viewing} onClose={() => setViewing(null)} />}
      {deleting && (
        <DeleteDialog
          // A reload brings a new version and a fresh dialog.
          key={deleting.version}
          config={deleting}
          onClose={() => setDeleting(null)}
          onReload={() => {
            void configs.refetch().then((r) => {
              setDeleting(r.data?.pages.flatMap((p) => p.items).find((x) => x.id === deleting.id) ?? null);
            });
          }}
        />
      )}
    </div>
  );
}

function ToolNames({ names }: { names: string[] }) {
  if (names.length === 0) return <span className="text-slate-500">None</span>;
  const shown = names.slice(0, 3);
  return (
    <span className="flex flex-wrap gap-1" title={names.join(", ")}>
      {shown.map((n) => (
        <code key={n} className="rounded bg-slate-100 px-1 font-mono text-xs dark:bg-slate-800">
          {n}
        </code>
      ))}
      {names.length > shown.length && <span className="text-xs text-slate-500">+{names.length - shown.length} more</span>}
    </span>
  );
}

/** Test: one read-only, authenticated request to the service; the report opens in a dialog. */
function TestAction({ config }: { config: ToolConfigView }) {
  const test = useTestToolConfig();
  const [open, setOpen] = useState(false);
  const run = () => test.mutate(config.id);
  return (
    <>
      <Button
        size="sm"
        variant="ghost"
        aria-label={`Test ${config.name}`}
        loading={test.isPending}
        onClick={() => {
          setOpen(true);
          run();
        }}
      >
        Test
      </Button>
      <Dialog
        open={open}
        onOpenChange={setOpen}
        title={`Connection test: ${config.name}`}
        footer={
          <>
            <Button onClick={run} loading={test.isPending} icon="refresh">
              Test again
            </Button>
            <Button variant="primary" onClick={() => setOpen(false)}>
              Close
            </Button>
          </>
        }
      >
        <div aria-live="polite" className="space-y-3 text-sm">
          {test.isPending ? (
            <p className="flex items-center gap-2 text-slate-500">
              <Spinner className="size-4" /> Testing…
            </p>
          ) : test.isError ? (
            <ProblemMessage error={test.error} />
          ) : test.data ? (
            <>
              <p className="flex flex-wrap items-center gap-2">
                {test.data.ok ? <Badge tone="success">Passed</Badge> : <Badge tone="danger">Failed</Badge>}
                <span className="text-slate-600 dark:text-slate-300">
                  {test.data.checked === "configuration"
                    ? "Checked the configuration (this kind cannot be tested without acting)."
                    : "Checked the connection and the credentials."}
                </span>
              </p>
              <p className="rounded-md bg-slate-50 p-3 break-words whitespace-pre-wrap dark:bg-slate-950">{test.data.detail}</p>
            </>
          ) : null}
        </div>
      </Dialog>
    </>
  );
}

function DeleteDialog({ config, onClose, onReload }: { config: ToolConfigView; onClose: () => void; onReload: () => void }) {
  const m = useDeleteToolConfig();
  const conflict = isVersionConflict(m.error);
  return (
    <ConfirmDialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title={`Delete ${config.name}?`}
      description="Agents that use its tools fail to start until they are changed. Its stored credentials are deleted."
      confirmLabel="Delete configuration"
      danger
      loading={m.isPending}
      error={conflict ? undefined : m.error}
      onConfirm={() =>
        m.mutate(
          { id: config.id, version: config.version },
          {
            onSuccess: () => {
              toast.success(`Tool configuration ${config.name} deleted.`);
              onClose();
            },
          },
        )
      }
    >
      {config.tools.length > 0 && (
        <p>
          Tools that go away: <ToolNames names={config.tools} />
        </p>
      )}
      {conflict && (
        <div role="alert" className="rounded-md border border-amber-300 bg-amber-50 p-3 text-amber-900 dark:border-amber-800 dark:bg-amber-950 dark:text-amber-200">
          <p>Someone else changed this configuration since the list was loaded. Reload to see the current version, then confirm again.</p>
          <Button size="sm" className="mt-2" icon="refresh" onClick={onReload}>
            Reload
          </Button>
        </div>
      )}
    </ConfirmDialog>
  );
}

function ViewDialog({ config, onClose }: { config: ToolConfigView; onClose: () => void }) {
  return (
    <Dialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title={config.name}
      className="max-w-2xl"
    >
      <div className="space-y-4">
        <DefinitionList
          items={[
            { term: "Kind", value: config.kind },
            { term: "Tools", value: <ToolNames names={config.tools} /> },
            { term: "Credentials", value: config.has_credentials ? "Stored (never shown)" : "None" },
            { term: "Egress allow-list", value: config.egress_allow.length ? config.egress_allow.join(", ") : "Public addresses only" },
            { term: "Updated", value: <RelativeTime date={config.updated_at} /> },
          ]}
        />
        <JsonView value={config.settings} label="Settings" />
      </div>
    </Dialog>
  );
}

function BuiltinTools({ tools, kinds }: { tools: { name: string; description: string; risk: string }[]; kinds: ToolKindView[] }) {
  return (
    <Section id="settings-builtin-tools" title="Built-in tools" description="Tools the server offers every organisation, without configuration.">
      {tools.length === 0 ? (
        <p className="text-sm text-slate-500 dark:text-slate-400">This server offers no built-in tools.</p>
      ) : (
        <Table
          caption="Built-in tools"
          rows={tools}
          rowKey={(t) => t.name}
          columns={[
            { key: "name", header: "Tool", cell: (t) => <span className="font-mono text-xs">{t.name}</span> },
            { key: "risk", header: "Risk", cell: (t) => <RiskBadge risk={t.risk} /> },
            { key: "description", header: "What it does", cell: (t) => t.description },
          ]}
        />
      )}
      {kinds.length > 0 && (
        <details className="rounded-lg border border-slate-200 text-sm dark:border-slate-800">
          <summary className="cursor-pointer rounded-lg px-3 py-2 font-medium focus-visible:outline-2 focus-visible:outline-indigo-500">
            Kinds you can configure ({kinds.length})
          </summary>
          <ul className="divide-y divide-slate-100 border-t border-slate-200 dark:divide-slate-800 dark:border-slate-800">
            {kinds.map((k) => (
              <li key={k.kind} className="px-3 py-2">
                <span className="font-mono font-medium">{k.kind}</span>{" "}
                <span className="text-slate-600 dark:text-slate-300">{k.description}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
    </Section>
  );
}
