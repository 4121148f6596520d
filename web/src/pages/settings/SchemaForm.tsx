/**
 * A form rendered from a JSON Schema (see `schemaForm.ts` for what is supported). Controlled: the parent keeps
 * the values (`initialValues`), validates them (`validateValues`) and builds what it submits (`buildValue`).
 *
 * ```tsx
 * const form = useMemo(() => describeSchema(kind.settings_schema), [kind]);
 * const [values, setValues] = useState(() => initialValues(form.fields, config?.settings));
 * const errors = validateValues(form.fields, values);
 * <SchemaForm form={form} values={values} onChange={setValues} errors={errors} showAllErrors={submitted} />
 * ```
 *
 * Errors show once a field was left (blur) or, with `showAllErrors`, everywhere (after a submit attempt).
 * Secret fields are password inputs; `storedSecret` adds "stored — leave empty to keep" to their hints.
 */
import { createContext, Fragment, use, useId, useMemo, useState, type ReactNode } from "react";
import { Button, Field, IconButton, Input, Select, Textarea } from "../../components";
import { cn } from "../../lib/cn";
import {
  asBool,
  asEntries,
  asObject,
  asObjectList,
  asText,
  asTextList,
  asUnion,
  newItem,
  pathKey,
  singular,
  switchVariant,
  type FieldDescriptor,
  type FieldValue,
  type FormDescriptor,
  type FormObject,
  type ListField,
  type MapField,
  type ObjectListField,
  type ScalarField,
  type UnionField,
  type ValidationErrors,
} from "./schemaForm";

interface FormCtx {
  errors: ValidationErrors;
  show: (path: string) => boolean;
  touch: (path: string[]) => void;
  disabled: boolean;
  storedSecret: boolean;
}

const Ctx = createContext<FormCtx>({
  errors: {},
  show: () => false,
  touch: () => undefined,
  disabled: false,
  storedSecret: false,
});

/** Text with `code` spans, as the server's schema descriptions use them. */
export function Doc({ text }: { text: string }) {
  const parts = text.split("`");
  return (
    <>
      {parts.map((p, i) =>
        i % 2 === 1 ? (
          <code key={i} className="rounded bg-slate-100 px-1 font-mono text-[0.95em] dark:bg-slate-800">
            {p}
          </code>
        ) : (
          <Fragment key={i}>{p}</Fragment>
        ),
      )}
    </>
  );
}

function constraintHint(f: ScalarField): string | null {
  if (f.kind === "string") {
    if (f.minLength !== undefined && f.maxLength !== undefined) return `${f.minLength}–${f.maxLength} characters.`;
    if (f.maxLength !== undefined) return `At most ${f.maxLength} characters.`;
    if (f.minLength !== undefined && f.minLength > 1) return `At least ${f.minLength} characters.`;
    return null;
  }
  if (f.kind === "number") {
    const lo = f.minimum ?? (f.exclusiveMinimum !== undefined ? `> ${f.exclusiveMinimum}` : undefined);
    const hi = f.maximum ?? (f.exclusiveMaximum !== undefined ? `< ${f.exclusiveMaximum}` : undefined);
    const what = f.integer ? "A whole number" : "A number";
    if (lo !== undefined && hi !== undefined) return typeof lo === "number" && typeof hi === "number" ? `${what} from ${lo} to ${hi}.` : `${what}, ${lo} and ${hi}.`;
    if (lo !== undefined) return typeof lo === "number" ? `${what}, at least ${lo}.` : `${what}, ${lo}.`;
    if (hi !== undefined) return typeof hi === "number" ? `${what}, at most ${hi}.` : `${what}, ${hi}.`;
    return null;
  }
  return null;
}

function Hint({ f, extra }: { f: FieldDescriptor; extra?: string | null }) {
  const { storedSecret } = use(Ctx);
  const parts: ReactNode[] = [];
  if (f.description) parts.push(<Doc key="d" text={f.description} />);
  if (extra) parts.push(<Fragment key="e">{extra}</Fragment>);
  if (f.default !== undefined && !f.secret && (typeof f.default === "string" || typeof f.default === "number")) {
    parts.push(<Fragment key="def">Default: {String(f.default)}.</Fragment>);
  }
  if (f.secret && storedSecret) parts.push(<strong key="s">Stored — leave empty to keep.</strong>);
  if (parts.length === 0) return null;
  return (
    <>
      {parts.map((p, i) => (
        <Fragment key={i}>
          {i > 0 && " "}
          {p}
        </Fragment>
      ))}
    </>
  );
}

function hasHint(f: FieldDescriptor, storedSecret: boolean, extra?: string | null): boolean {
  return Boolean(f.description ?? extra) || (f.secret && storedSecret) || (f.default !== undefined && !f.secret && (typeof f.default === "string" || typeof f.default === "number"));
}

function useFieldError(path: string[]): string | undefined {
  const { errors, show } = use(Ctx);
  const key = pathKey(path);
  return show(key) ? errors[key] : undefined;
}

// ---------------------------------------------------------------------------------------------------------

function ScalarControl({
  f,
  value,
  onChange,
  path,
  controlProps,
  autoFocus,
}: {
  f: ScalarField;
  value: string;
  onChange: (v: string) => void;
  path: string[];
  controlProps: Record<string, unknown>;
  autoFocus?: boolean;
}) {
  const { touch, disabled } = use(Ctx);
  const onBlur = () => touch(path);
  if (f.kind === "enum") {
    const selected = f.options.find((o) => o.key === value);
    return (
      <>
        <Select {...controlProps} value={value} onChange={(e) => onChange(e.target.value)} onBlur={onBlur} disabled={disabled} autoFocus={autoFocus}>
          {(!f.required || value === "" || !selected) && <option value="">{f.required ? "Choose…" : "— Not set —"}</option>}
          {f.options.map((o) => (
            <option key={o.key} value={o.key}>
              {o.label}
            </option>
          ))}
        </Select>
        {selected?.description && <p className="mt-1 text-xs text-slate-500 dark:text-slate-400">{selected.description}</p>}
      </>
    );
  }
  if (f.kind === "number") {
    return (
      <Input
        {...controlProps}
        type="text"
        inputMode={f.integer ? "numeric" : "decimal"}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        onBlur={onBlur}
        disabled={disabled}
        autoFocus={autoFocus}
        spellCheck={false}
      />
    );
  }
  return (
    <Input
      {...controlProps}
      type={f.inputType}
      value={value}
      onChange={(e) => onChange(e.target.value)}
      onBlur={onBlur}
      disabled={disabled}
      autoFocus={autoFocus}
      spellCheck={false}
      autoComplete={f.secret ? "new-password" : "off"}
      {...(f.maxLength !== undefined ? { maxLength: f.maxLength } : {})}
    />
  );
}

function ScalarFieldView({ f, value, onChange, path }: { f: ScalarField; value: string; onChange: (v: string) => void; path: string[] }) {
  const { storedSecret } = use(Ctx);
  const error = useFieldError(path);
  const extra = constraintHint(f);
  return (
    <Field label={f.label} required={f.required && !f.nullable} error={error} hint={hasHint(f, storedSecret, extra) ? <Hint f={f} extra={extra} /> : undefined}>
      {(p) => <ScalarControl f={f} value={value} onChange={onChange} path={path} controlProps={{ ...p }} />}
    </Field>
  );
}

function BooleanFieldView({ f, value, onChange, path }: { f: FieldDescriptor; value: boolean; onChange: (v: boolean) => void; path: string[] }) {
  const { touch, disabled, storedSecret } = use(Ctx);
  const id = useId();
  const hint = hasHint(f, storedSecret) ? `${id}-hint` : undefined;
  return (
    <div>
      <div className="flex items-center gap-2">
        <input
          id={id}
          type="checkbox"
          checked={value}
          onChange={(e) => onChange(e.target.checked)}
          onBlur={() => touch(path)}
          disabled={disabled}
          aria-describedby={hint}
          className="size-4 rounded border-slate-300 accent-indigo-600 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
        />
        <label htmlFor={id} className="text-sm font-medium text-slate-700 dark:text-slate-200">
          {f.label}
        </label>
      </div>
      {hint && (
        <p id={hint} className="mt-1 ml-6 text-xs text-slate-500 dark:text-slate-400">
          <Hint f={f} />
        </p>
      )}
    </div>
  );
}

/** A group of controls with a legend, description and (group-level) error. */
function Group({
  label,
  description,
  required,
  error,
  children,
  actions,
  nested = true,
}: {
  label: ReactNode;
  description?: ReactNode;
  required?: boolean;
  error?: string | undefined;
  children: ReactNode;
  actions?: ReactNode;
  nested?: boolean;
}) {
  const id = useId();
  const described = [description ? `${id}-d` : null, error ? `${id}-e` : null].filter(Boolean).join(" ") || undefined;
  return (
    <fieldset
      aria-describedby={described}
      className={cn(nested && "rounded-md border border-slate-200 p-3 dark:border-slate-800", "min-w-0")}
    >
      <legend className={cn("text-sm font-medium text-slate-700 dark:text-slate-200", nested && "px-1")}>
        {label}
        {required && (
          <span className="text-red-600" aria-hidden>
            {" "}
            *
          </span>
        )}
      </legend>
      {description && (
        <p id={`${id}-d`} className="mb-2 text-xs text-slate-500 dark:text-slate-400">
          {description}
        </p>
      )}
      <div className="space-y-3">{children}</div>
      {error && (
        <p id={`${id}-e`} className="mt-2 text-xs text-red-600 dark:text-red-400">
          {error}
        </p>
      )}
      {actions && <div className="mt-3 flex flex-wrap gap-2">{actions}</div>}
    </fieldset>
  );
}

/**
 * A list of single-line entries with add and remove buttons (each entry labelled "<item> <n>"). Pasting several
 * lines into an entry splits them into entries. Used for string lists and the egress allow-list.
 */
export function StringListEditor({
  label,
  itemLabel,
  items,
  onChange,
  description,
  required,
  listError,
  itemError,
  onBlurItem,
  renderControl,
  placeholder,
  max,
  disabled = false,
}: {
  label: string;
  itemLabel: string;
  items: string[];
  onChange: (items: string[]) => void;
  description?: ReactNode;
  required?: boolean;
  listError?: string | undefined;
  itemError?: (index: number) => string | undefined;
  onBlurItem?: (index: number) => void;
  renderControl?: (props: { index: number; value: string; onChange: (v: string) => void; controlProps: Record<string, unknown>; autoFocus: boolean }) => ReactNode;
  placeholder?: string;
  max?: number;
  disabled?: boolean;
}) {
  const id = useId();
  const [focusIndex, setFocusIndex] = useState<number | null>(null);
  const set = (i: number, v: string) => onChange(items.map((x, j) => (j === i ? v : x)));
  const full = max !== undefined && items.length >= max;
  return (
    <Group
      label={label}
      description={description}
      required={required}
      error={listError}
      actions={
        !disabled && (
          <Button
            size="sm"
            icon="plus"
            disabled={full}
            onClick={() => {
              setFocusIndex(items.length);
              onChange([...items, ""]);
            }}
          >
            Add {itemLabel.toLowerCase()}
          </Button>
        )
      }
    >
      {items.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">None yet.</p>}
      {items.length > 0 && (
        <ul className="space-y-2">
          {items.map((value, i) => {
            const err = itemError?.(i);
            const errId = `${id}-${i}-e`;
            const controlProps: Record<string, unknown> = {
              "aria-label": `${itemLabel} ${i + 1}`,
              ...(err ? { "aria-invalid": true, invalid: true, "aria-describedby": errId } : {}),
            };
            return (
              // Entries have no identity beyond their position.
              <li key={i}>
                <div className="flex items-start gap-2">
                  <div className="min-w-0 flex-1">
                    {renderControl ? (
                      renderControl({ index: i, value, onChange: (v) => set(i, v), controlProps, autoFocus: i === focusIndex })
                    ) : (
                      <Input
                        {...controlProps}
                        value={value}
                        placeholder={placeholder}
                        disabled={disabled}
                        spellCheck={false}
                        autoFocus={i === focusIndex}
                        onChange={(e) => set(i, e.target.value)}
                        onBlur={() => onBlurItem?.(i)}
                        onPaste={(e) => {
                          const text = e.clipboardData.getData("text");
                          if (!/[\r\n]/.test(text)) return;
                          e.preventDefault();
                          const lines = text
                            .split(/\r?\n/)
                            .map((l) => l.trim())
                            .filter(Boolean);
                          const next = [...items.slice(0, i), ...(value ? [value] : []), ...lines, ...items.slice(i + 1)];
                          onChange(max !== undefined ? next.slice(0, Math.max(max, items.length)) : next);
                        }}
                      />
                    )}
                  </div>
                  {!disabled && (
                    <IconButton
                      icon="close"
                      size="md"
                      label={`Remove ${itemLabel.toLowerCase()} ${i + 1}`}
                      onClick={() => {
                        setFocusIndex(null);
                        onChange(items.filter((_, j) => j !== i));
                      }}
                    />
                  )}
                </div>
                {err && (
                  <p id={errId} className="mt-1 text-xs text-red-600 dark:text-red-400">
                    {err}
                  </p>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Group>
  );
}

function ListFieldView({ f, value, onChange, path }: { f: ListField; value: string[]; onChange: (v: string[]) => void; path: string[] }) {
  const { errors, show, touch, disabled } = use(Ctx);
  const listKey = pathKey(path);
  const extra = f.maxItems !== undefined ? `At most ${f.maxItems}.` : null;
  return (
    <StringListEditor
      label={f.label}
      itemLabel={f.item.label || "Entry"}
      items={value}
      onChange={onChange}
      description={f.description || extra ? <Hint f={f} extra={extra} /> : undefined}
      required={f.required}
      listError={show(listKey) ? errors[listKey] : undefined}
      itemError={(i) => {
        const k = pathKey([...path, String(i)]);
        return show(k) ? errors[k] : undefined;
      }}
      onBlurItem={(i) => touch([...path, String(i)])}
      disabled={disabled}
      {...(f.maxItems !== undefined ? { max: f.maxItems } : {})}
      {...(f.item.kind !== "string" || f.item.secret
        ? {
            renderControl: ({ index, value: v, onChange: set, controlProps, autoFocus }) => (
              <ScalarControl f={f.item} value={v} onChange={set} path={[...path, String(index)]} controlProps={controlProps} autoFocus={autoFocus} />
            ),
          }
        : {})}
    />
  );
}

function ObjectListFieldView({ f, value, onChange, path }: { f: ObjectListField; value: FormObject[]; onChange: (v: FormObject[]) => void; path: string[] }) {
  const { errors, show, disabled } = use(Ctx);
  const key = pathKey(path);
  const full = f.maxItems !== undefined && value.length >= f.maxItems;
  return (
    <Group
      label={f.label}
      description={f.description ? <Doc text={f.description} /> : undefined}
      required={f.required}
      error={show(key) ? errors[key] : undefined}
      actions={
        !disabled && (
          <Button size="sm" icon="plus" disabled={full} onClick={() => onChange([...value, newItem(f.fields)])}>
            Add {f.itemLabel.toLowerCase()}
          </Button>
        )
      }
    >
      {value.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">None yet.</p>}
      {value.map((item, i) => (
        <Group
          // Items have no identity beyond their position.
          key={i}
          label={`${f.itemLabel} ${i + 1}`}
          actions={
            !disabled && (
              <Button size="sm" variant="ghost" icon="close" onClick={() => onChange(value.filter((_, j) => j !== i))}>
                Remove {f.itemLabel.toLowerCase()} {i + 1}
              </Button>
            )
          }
        >
          <Fields fields={f.fields} values={item} onChange={(v) => onChange(value.map((x, j) => (j === i ? v : x)))} path={[...path, String(i)]} />
        </Group>
      ))}
    </Group>
  );
}

function MapFieldView({ f, value, onChange, path }: { f: MapField; value: { key: string; value: string }[]; onChange: (v: { key: string; value: string }[]) => void; path: string[] }) {
  const { errors, show, touch, disabled, storedSecret } = use(Ctx);
  const [focusIndex, setFocusIndex] = useState<number | null>(null);
  const item = f.label ? singular(f.label) : "Entry";
  const set = (i: number, patch: Partial<{ key: string; value: string }>) => onChange(value.map((e, j) => (j === i ? { ...e, ...patch } : e)));
  const err = (i: number, part: "key" | "value") => {
    const k = pathKey([...path, String(i), part]);
    return show(k) ? errors[k] : undefined;
  };
  return (
    <Group
      label={f.label}
      description={f.description || (f.secret && storedSecret) ? <Hint f={f} /> : undefined}
      required={f.required}
      actions={
        !disabled && (
          <Button
            size="sm"
            icon="plus"
            onClick={() => {
              setFocusIndex(value.length);
              onChange([...value, { key: "", value: "" }]);
            }}
          >
            Add {item.toLowerCase()}
          </Button>
        )
      }
    >
      {value.length === 0 && <p className="text-sm text-slate-500 dark:text-slate-400">None yet.</p>}
      {value.length > 0 && (
        <ul className="space-y-2">
          {value.map((e, i) => {
            const ke = err(i, "key");
            const ve = err(i, "value");
            return (
              <li key={i} className="flex items-start gap-2">
                <div className="min-w-0 flex-1">
                  <Input
                    aria-label={`${item} ${i + 1} name`}
                    value={e.key}
                    placeholder="Name"
                    spellCheck={false}
                    autoFocus={i === focusIndex}
                    invalid={Boolean(ke)}
                    disabled={disabled}
                    onChange={(ev) => set(i, { key: ev.target.value })}
                    onBlur={() => touch([...path, String(i), "key"])}
                  />
                  {ke && <p className="mt-1 text-xs text-red-600 dark:text-red-400">{ke}</p>}
                </div>
                <div className="min-w-0 flex-1">
                  <ScalarControl
                    f={f.value}
                    value={e.value}
                    onChange={(v) => set(i, { value: v })}
                    path={[...path, String(i), "value"]}
                    controlProps={{ "aria-label": `${item} ${i + 1} value`, ...(ve ? { invalid: true } : {}), placeholder: "Value" }}
                  />
                  {ve && <p className="mt-1 text-xs text-red-600 dark:text-red-400">{ve}</p>}
                </div>
                {!disabled && (
                  <IconButton
                    icon="close"
                    label={`Remove ${item.toLowerCase()} ${i + 1}`}
                    onClick={() => {
                      setFocusIndex(null);
                      onChange(value.filter((_, j) => j !== i));
                    }}
                  />
                )}
              </li>
            );
          })}
        </ul>
      )}
    </Group>
  );
}

function UnionFieldView({ f, value, onChange, path }: { f: UnionField; value: ReturnType<typeof asUnion>; onChange: (v: ReturnType<typeof asUnion>) => void; path: string[] }) {
  const { touch, disabled } = use(Ctx);
  const error = useFieldError(path);
  const variant = f.variants.find((v) => v.key === value.variant);
  return (
    <Group label={f.label} description={f.description ? <Doc text={f.description} /> : undefined} required={f.required}>
      <Field label={`${f.label} ${humanDiscriminator(f.discriminator)}`} required={f.required} error={error} hint={variant?.description ? <Doc text={variant.description} /> : undefined}>
        {(p) => (
          <Select {...p} value={value.variant} disabled={disabled} onBlur={() => touch(path)} onChange={(e) => onChange(switchVariant(f, value, e.target.value))}>
            {(!f.required || !variant) && <option value="">{f.required ? "Choose…" : "— Not set —"}</option>}
            {f.variants.map((v) => (
              <option key={v.key} value={v.key}>
                {v.label}
              </option>
            ))}
          </Select>
        )}
      </Field>
      {variant && variant.fields.length > 0 && (
        <Fields fields={variant.fields} values={value.values} onChange={(values) => onChange({ ...value, values })} path={path} />
      )}
    </Group>
  );
}

function humanDiscriminator(d: string): string {
  return d === "type" || d === "kind" ? "type" : d.replace(/_/g, " ");
}

function JsonFieldView({ f, value, onChange, path }: { f: FieldDescriptor; value: string; onChange: (v: string) => void; path: string[] }) {
  const { touch, disabled, storedSecret } = use(Ctx);
  const error = useFieldError(path);
  const extra = f.kind === "json" ? (f.expect === "object" ? "A JSON object." : f.expect === "array" ? "A JSON array." : "Any JSON value.") : null;
  return (
    <Field label={f.label} required={f.required && !f.nullable} error={error} hint={hasHint(f, storedSecret, extra) ? <Hint f={f} extra={extra} /> : undefined}>
      {(p) => (
        <Textarea
          {...p}
          rows={4}
          className="font-mono text-xs"
          spellCheck={false}
          value={value}
          disabled={disabled}
          onChange={(e) => onChange(e.target.value)}
          onBlur={() => touch(path)}
        />
      )}
    </Field>
  );
}

function FieldView({ f, value, onChange, path }: { f: FieldDescriptor; value: FieldValue | undefined; onChange: (v: FieldValue) => void; path: string[] }) {
  switch (f.kind) {
    case "string":
    case "enum":
    case "number":
      return <ScalarFieldView f={f} value={asText(value)} onChange={onChange} path={path} />;
    case "boolean":
      return <BooleanFieldView f={f} value={asBool(value)} onChange={onChange} path={path} />;
    case "list":
      return <ListFieldView f={f} value={asTextList(value)} onChange={onChange} path={path} />;
    case "objectList":
      return <ObjectListFieldView f={f} value={asObjectList(value)} onChange={onChange} path={path} />;
    case "object":
      if (f.fields.length === 0) return null;
      return (
        <Group label={f.label} description={f.description ? <Doc text={f.description} /> : undefined} required={f.required}>
          <Fields fields={f.fields} values={asObject(value)} onChange={onChange} path={path} />
        </Group>
      );
    case "map":
      return <MapFieldView f={f} value={asEntries(value)} onChange={onChange} path={path} />;
    case "union":
      return <UnionFieldView f={f} value={asUnion(value)} onChange={onChange} path={path} />;
    case "json":
      return <JsonFieldView f={f} value={asText(value)} onChange={onChange} path={path} />;
  }
}

function Fields({ fields, values, onChange, path }: { fields: readonly FieldDescriptor[]; values: FormObject; onChange: (v: FormObject) => void; path: string[] }) {
  return (
    <>
      {fields.map((f) => (
        <FieldView
          key={f.key}
          f={f}
          value={values[f.key]}
          onChange={(v) => onChange({ ...values, [f.key]: v })}
          path={f.key === "" ? path : [...path, f.key]}
        />
      ))}
    </>
  );
}

export function SchemaForm({
  form,
  values,
  onChange,
  errors,
  showAllErrors = false,
  storedSecret = false,
  disabled = false,
  empty,
}: {
  form: FormDescriptor;
  values: FormObject;
  onChange: (values: FormObject) => void;
  errors: ValidationErrors;
  /** Show every error (after a submit attempt), not only those of fields the user left. */
  showAllErrors?: boolean;
  /** Credentials are stored: secret fields say "leave empty to keep". */
  storedSecret?: boolean;
  disabled?: boolean;
  /** Shown when the schema has no fields. */
  empty?: ReactNode;
}) {
  const [touched, setTouched] = useState<ReadonlySet<string>>(() => new Set());
  const ctx = useMemo<FormCtx>(
    () => ({
      errors,
      disabled,
      storedSecret,
      show: (p) => showAllErrors || touched.has(p),
      touch: (path) =>
        setTouched((prev) => {
          const next = new Set(prev);
          // Leaving an entry also reveals the errors of the lists and objects around it.
          for (let i = path.length; i > 0; i--) next.add(pathKey(path.slice(0, i)));
          return next.size === prev.size ? prev : next;
        }),
    }),
    [errors, disabled, storedSecret, showAllErrors, touched],
  );
  if (form.fields.length === 0) return <>{empty ?? null}</>;
  return (
    <Ctx value={ctx}>
      <div className="space-y-4">
        <Fields fields={form.fields} values={values} onChange={onChange} path={[]} />
      </div>
    </Ctx>
  );
}
