/**
 * Create and edit a tool configuration: kind and name (on create), settings and credentials as forms built
 * from the kind's JSON Schemas, and the egress allow-list.
 *
 * Credentials are write-only: never pre-filled. On edit, leaving them empty keeps the stored ones (nothing is
 * sent); typing any replaces them all (`PATCH` stores the new object whole), and "Remove the stored
 * credentials" sends `remove_credentials`. Only what changed is sent, with the `version` read; a 409 offers to
 * reload the configuration.
 */
import { useMemo, useRef, useState, type ReactNode, type SubmitEvent } from "react";
import { isVersionConflict } from "../../api/problem";
import {
  Badge,
  Button,
  ConflictNotice,
  Dialog,
  ErrorState,
  Field,
  Input,
  ProblemMessage,
  Select,
  SkeletonList,
  toast,
} from "../../components";
import {
  useCreateToolConfig,
  useToolConfig,
  useUpdateToolConfig,
  type ToolConfigView,
  type ToolKindView,
  type UpdateToolConfigRequest,
} from "./queries";
import { Doc, SchemaForm, StringListEditor } from "./SchemaForm";
import {
  asRecord,
  buildRoot,
  cleanEgress,
  describeSchema,
  initialValues,
  isBlank,
  jsonEqual,
  rawJsonForm,
  validateEgress,
  validateValues,
  type FormDescriptor,
  type FormObject,
} from "./schemaForm";
import { checkConfigName } from "./helpers";

const MAX_EGRESS = 32;

export function RiskBadge({ risk }: { risk: string }) {
  const tone = risk === "high" ? "danger" : risk === "medium" ? "warning" : "neutral";
  return <Badge tone={tone}>{risk} risk</Badge>;
}

interface Forms {
  settings: FormDescriptor;
  credentials: FormDescriptor;
}

function formsFor(kind: ToolKindView | undefined): Forms {
  if (!kind) return { settings: rawJsonForm("Settings (JSON)"), credentials: rawJsonForm("Credentials (JSON)") };
  return {
    settings: describeSchema(kind.settings_schema),
    credentials: describeSchema(kind.credentials_schema, { secret: true }),
  };
}

function FormSection({ title, description, children }: { title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <fieldset className="min-w-0 space-y-3 border-t border-slate-200 pt-4 dark:border-slate-800">
      <legend className="float-left mb-1 w-full text-sm font-semibold">{title}</legend>
      {description && <div className="clear-both text-xs text-slate-500 dark:text-slate-400">{description}</div>}
      <div className="clear-both space-y-4">{children}</div>
    </fieldset>
  );
}

function ToolPreview({ kind, name }: { kind: ToolKindView; name: string }) {
  if (kind.actions.length === 0) {
    return (
      <p className="text-xs text-slate-500 dark:text-slate-400">
        {kind.kind === "mcp"
          ? "Its tools are discovered from the MCP server when the configuration is saved or tested."
          : "Its tools are the ones declared in the settings."}
      </p>
    );
  }
  return (
    <div className="text-xs">
      <p className="mb-1 text-slate-500 dark:text-slate-400">Tools it gives agents:</p>
      <ul className="space-y-1">
        {kind.actions.map((a) => (
          <li key={a.action} className="flex flex-wrap items-center gap-2">
            <span className="font-mono">
              {name || "name"}_{a.action}
            </span>
            <RiskBadge risk={a.risk} />
            <span className="text-slate-500 dark:text-slate-400">{a.description}</span>
          </li>
        ))}
      </ul>
    </div>
  );
}

function focusFirstInvalid(form: HTMLFormElement | null) {
  // After the errors have rendered.
  setTimeout(() => form?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus(), 0);
}

// ---------------------------------------------------------------------------------------------------------

export function CreateToolConfigDialog({ kinds, onClose }: { kinds: ToolKindView[]; onClose: () => void }) {
  return (
    <Dialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title="New tool configuration"
      description="Connect a service; its tools become available to agents."
      className="max-w-3xl"
    >
      <ToolConfigForm kinds={kinds} onClose={onClose} />
    </Dialog>
  );
}

export function EditToolConfigDialog({ id, name, kinds, onClose }: { id: string; name: string; kinds: ToolKindView[]; onClose: () => void }) {
  const q = useToolConfig(id);
  // Bumped by "Reload" after a conflict: the form starts afresh from the version just read.
  const [generation, setGeneration] = useState(0);
  return (
    <Dialog
      open
      onOpenChange={(o) => {
        if (!o) onClose();
      }}
      title={`Edit ${name}`}
      className="max-w-3xl"
    >
      {q.isPending ? (
        <SkeletonList lines={5} />
      ) : q.isError ? (
        <ErrorState error={q.error} onRetry={() => void q.refetch()} compact />
      ) : (
        <ToolConfigForm
          key={generation}
          kinds={kinds}
          config={q.data}
          onClose={onClose}
          onReload={() => {
            void q.refetch().then(() => setGeneration((g) => g + 1));
          }}
          reloading={q.isFetching}
        />
      )}
    </Dialog>
  );
}

function ToolConfigForm({
  kinds,
  config,
  onClose,
  onReload,
  reloading = false,
}: {
  kinds: ToolKindView[];
  config?: ToolConfigView;
  onClose: () => void;
  onReload?: () => void;
  reloading?: boolean;
}) {
  // The configuration as read when the form started: its version goes with the change, whatever is refetched.
  const [base] = useState(config);
  const editing = base !== undefined;
  const formRef = useRef<HTMLFormElement>(null);
  const create = useCreateToolConfig();
  const update = useUpdateToolConfig();
  const m = editing ? update : create;

  const [kind, setKind] = useState(base?.kind ?? "");
  const kindView = kinds.find((k) => k.kind === kind);
  const forms = useMemo(() => formsFor(kindView), [kindView]);
  const [name, setName] = useState(base?.name ?? "");
  const [settings, setSettings] = useState<FormObject>(() => initialValues(forms.settings.fields, base?.settings));
  const [credentials, setCredentials] = useState<FormObject>(() => initialValues(forms.credentials.fields));
  const [removeCredentials, setRemoveCredentials] = useState(false);
  const [egress, setEgress] = useState<string[]>(() => base?.egress_allow ?? []);
  const [submitted, setSubmitted] = useState(false);

  const stored = base?.has_credentials === true;
  const credentialsBlank = isBlank(forms.credentials, credentials);
  const keepCredentials = removeCredentials || (stored && credentialsBlank);

  const kindError = !editing && !kindView ? "Choose what to connect." : null;
  const nameError = editing ? null : checkConfigName(name);
  const settingsErrors = validateValues(forms.settings.fields, settings);
  const credentialErrors = keepCredentials ? {} : validateValues(forms.credentials.fields, credentials);
  const egressErrors = validateEgress(egress, MAX_EGRESS);
  const invalid =
    Boolean(kindError ?? nameError) ||
    Object.keys(settingsErrors).length > 0 ||
    Object.keys(credentialErrors).length > 0 ||
    Object.keys(egressErrors).length > 0;

  const chooseKind = (k: string) => {
    const next = formsFor(kinds.find((x) => x.kind === k));
    setKind(k);
    setSettings(initialValues(next.settings.fields));
    setCredentials(initialValues(next.credentials.fields));
    setSubmitted(false);
  };

  const onSubmit = (e: SubmitEvent) => {
    e.preventDefault();
    setSubmitted(true);
    if (invalid) {
      focusFirstInvalid(formRef.current);
      return;
    }
    const builtSettings = asRecord(buildRoot(forms.settings, settings));
    const builtEgress = cleanEgress(egress);
    if (!base) {
      create.mutate(
        {
          name,
          kind,
          settings: builtSettings,
          ...(builtEgress.length > 0 ? { egress_allow: builtEgress } : {}),
          ...(credentialsBlank ? {} : { credentials: asRecord(buildRoot(forms.credentials, credentials)) }),
        },
        {
          onSuccess: (c) => {
            toast.success(`Tool configuration ${c.name} created.`);
            onClose();
          },
        },
      );
      return;
    }
    const body: UpdateToolConfigRequest = { version: base.version };
    if (!jsonEqual(builtSettings, base.settings)) body.settings = builtSettings;
    if (removeCredentials) body.remove_credentials = true;
    else if (!credentialsBlank) body.credentials = asRecord(buildRoot(forms.credentials, credentials));
    if (!jsonEqual(builtEgress, base.egress_allow)) body.egress_allow = builtEgress;
    if (Object.keys(body).length === 1) {
      toast.info("Nothing changed.");
      onClose();
      return;
    }
    update.mutate(
      { id: base.id, body },
      {
        onSuccess: (c) => {
          toast.success(`Tool configuration ${c.name} saved.`);
          onClose();
        },
      },
    );
  };

  return (
    <form ref={formRef} onSubmit={onSubmit} noValidate className="space-y-5" aria-label={editing ? `Edit ${base.name}` : "New tool configuration"}>
      {editing ? (
        <div className="flex flex-wrap items-center gap-2 text-sm">
          <span className="font-mono font-medium">{base.name}</span>
          <Badge>{base.kind}</Badge>
          {kindView && <span className="text-slate-500 dark:text-slate-400">{kindView.description}</span>}
          {!kindView && <span className="text-amber-700 dark:text-amber-300">This server's catalogue does not describe this kind; edit its settings as JSON.</span>}
        </div>
      ) : (
        <div className="grid gap-4 sm:grid-cols-2">
          <Field label="Kind" required error={submitted ? kindError : undefined} hint={kindView ? <Doc text={kindView.description} /> : "What to connect."}>
            {(p) => (
              <Select {...p} value={kind} onChange={(e) => chooseKind(e.target.value)} autoFocus>
                <option value="">Choose…</option>
                {kinds.map((k) => (
                  <option key={k.kind} value={k.kind}>
                    {k.kind}
                  </option>
                ))}
              </Select>
            )}
          </Field>
          <Field
            label="Name"
            required
            error={submitted || name !== "" ? nameError : undefined}
            hint="1 to 32 lowercase letters, digits and -, starting with a letter. Its tools are named name_action."
          >
            {(p) => <Input {...p} value={name} maxLength={32} spellCheck={false} autoComplete="off" onChange={(e) => setName(e.target.value.toLowerCase())} />}
          </Field>
          {kindView && (
            <div className="sm:col-span-2">
              <ToolPreview kind={kindView} name={name} />
            </div>
          )}
        </div>
      )}

      {(editing || kindView) && (
        <>
          <FormSection title="Settings" description={forms.settings.description ? <Doc text={forms.settings.description} /> : undefined}>
            <SchemaForm
              form={forms.settings}
              values={settings}
              onChange={setSettings}
              errors={settingsErrors}
              showAllErrors={submitted}
              empty={<p className="text-sm text-slate-500 dark:text-slate-400">This kind has no settings.</p>}
            />
          </FormSection>

          <FormSection
            title="Credentials"
            description={
              stored ? (
                <>
                  Credentials are stored (encrypted; they are never shown). <strong>Leave these empty to keep them.</strong>{" "}
                  Anything you enter replaces all stored credentials, so fill in every one the service needs.
                </>
              ) : (
                "Stored encrypted on the server and never shown again, not even here."
              )
            }
          >
            <SchemaForm
              form={forms.credentials}
              values={credentials}
              onChange={setCredentials}
              errors={credentialErrors}
              showAllErrors={submitted && !keepCredentials}
              storedSecret={stored}
              disabled={removeCredentials}
              empty={<p className="text-sm text-slate-500 dark:text-slate-400">This kind takes no credentials.</p>}
            />
            {stored && (
              <div className="flex items-center gap-2">
                <input
                  id="tool-remove-credentials"
                  type="checkbox"
                  checked={removeCredentials}
                  onChange={(e) => {
                    setRemoveCredentials(e.target.checked);
                    if (e.target.checked) setCredentials(initialValues(forms.credentials.fields));
                  }}
                  className="size-4 rounded border-slate-300 accent-red-600 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
                />
                <label htmlFor="tool-remove-credentials" className="text-sm">
                  Remove the stored credentials
                </label>
              </div>
            )}
          </FormSection>

          <FormSection title="Network access">
            <StringListEditor
              label="Egress allow-list"
              itemLabel="Range"
              items={egress}
              onChange={setEgress}
              placeholder="10.20.0.0/16"
              max={MAX_EGRESS}
              description={
                <>
                  Tools reach public addresses only. List private or loopback ranges they may also reach, as CIDR (
                  <code className="font-mono">10.20.0.5/32</code> for one address, <code className="font-mono">fd00::/8</code>), within what
                  the server&apos;s operator permits. At most {MAX_EGRESS}.
                </>
              }
              listError={egressErrors.list}
              itemError={(i) => (submitted || (egress[i] ?? "").trim().length > 0 ? egressErrors[String(i)] : undefined)}
            />
          </FormSection>
        </>
      )}

      {submitted && invalid && (
        <p role="alert" className="text-sm text-red-700 dark:text-red-400">
          Some fields need attention; they are marked above.
        </p>
      )}
      {isVersionConflict(m.error) && onReload ? (
        <ConflictNotice what="this configuration" onReload={onReload} reloading={reloading} />
      ) : (
        <ProblemMessage error={m.error} />
      )}

      <div className="flex justify-end gap-2 border-t border-slate-200 pt-4 dark:border-slate-800">
        <Button onClick={onClose}>Cancel</Button>
        <Button type="submit" variant="primary" loading={m.isPending} disabled={!editing && !kindView}>
          {editing ? "Save changes" : "Create configuration"}
        </Button>
      </div>
    </form>
  );
}
