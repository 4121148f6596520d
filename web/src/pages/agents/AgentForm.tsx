/**
 * The agent form (create and edit): basics, model and planning, tools with per-tool approval, the approval
 * threshold, budgets and prices. Validates against the documented limits before sending; a problem from the
 * server is shown above the form, and next to its field when it names one.
 */
import { useEffect, useRef, useState, type ReactNode, type SyntheticEvent } from "react";
import { describeError } from "../../api/problem";
import { Button, Field, Input, ProblemMessage, Select, Textarea } from "../../components";
import { modeLabel } from "../runs/status";
import { problemField, validate, type AgentFormValues, type FieldKey, type FormErrors } from "./agentForm";
import { PLANNING_MODES, RISK_LEVELS, SETTINGS_LIMITS, TEXT_LIMITS, type NumericField } from "./limits";
import { ToolPicker } from "./ToolPicker";
import { checkboxClass, legendClass, sectionClass } from "./ui";

const MODE_HINTS: Record<string, string> = {
  loop_with_limits: "Model and tools alternate until the model answers or the turn limit is reached.",
  plan_and_execute: "The model writes a plan; each step runs as its own tool loop; failed steps can trigger a re-plan.",
  single_step: "One model call with tools, then one more (without tools) writes the answer.",
};

interface NumberSpec {
  field: NumericField;
  label: string;
  hint?: string;
  /** Shown after the range, e.g. "seconds". */
  unit?: string;
  optional?: boolean;
  /** What an empty field means (default: no limit). */
  empty?: string;
}

function rangeHint(spec: NumberSpec): string {
  const l = SETTINGS_LIMITS[spec.field];
  const scale = spec.field === "budget.max_wall_clock_ms" ? 1000 : 1;
  const range = `${(l.min / scale).toLocaleString()} to ${(l.max / scale).toLocaleString()}${spec.unit ? ` ${spec.unit}` : ""}`;
  return [spec.hint, range, spec.optional ? `empty: ${spec.empty ?? "no limit"}` : null].filter(Boolean).join(" · ");
}

function NumberInput({
  spec,
  values,
  errors,
  set,
}: {
  spec: NumberSpec;
  values: AgentFormValues;
  errors: FormErrors;
  set: (field: NumericField, value: string) => void;
}) {
  const integer = SETTINGS_LIMITS[spec.field].integer && spec.field !== "budget.max_wall_clock_ms";
  return (
    <Field label={spec.label} hint={rangeHint(spec)} error={errors[spec.field]} required={!spec.optional}>
      {(p) => (
        <Input
          {...p}
          inputMode={integer ? "numeric" : "decimal"}
          autoComplete="off"
          value={values.numbers[spec.field]}
          onChange={(e) => set(spec.field, e.target.value)}
        />
      )}
    </Field>
  );
}

function Section({ title, children, description }: { title: string; description?: ReactNode; children: ReactNode }) {
  return (
    <fieldset className={sectionClass}>
      <legend className={legendClass}>{title}</legend>
      {description && <p className="-mt-2 text-xs text-slate-500 dark:text-slate-400">{description}</p>}
      {children}
    </fieldset>
  );
}

export function AgentForm({
  initial,
  create,
  submitLabel,
  submitting,
  problem,
  onSubmit,
  footer,
  disabled = false,
}: {
  initial: AgentFormValues;
  create: boolean;
  submitLabel: string;
  submitting: boolean;
  /** The last failure of the submit (shown above the form; next to its field when it names one). */
  problem: unknown;
  onSubmit: (values: AgentFormValues) => void;
  footer?: ReactNode;
  disabled?: boolean;
}) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  // The server's problem shows next to the field it names until that field is edited.
  const [dismissed, setDismissed] = useState<unknown>(null);
  const formRef = useRef<HTMLFormElement>(null);
  const focusPending = useRef(false);

  const serverField: FieldKey | null = problem != null && problem !== dismissed ? problemField(problem) : null;
  const fieldErrors: FormErrors = { ...errors };
  if (serverField && !fieldErrors[serverField]) fieldErrors[serverField] = describeError(problem);

  useEffect(() => {
    if (!focusPending.current) return;
    focusPending.current = false;
    formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus();
  });

  // A new problem from the server: bring the field it names (or the message) into view.
  const problemRef = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (problem == null) return;
    const field = formRef.current?.querySelector<HTMLElement>('[aria-invalid="true"]');
    if (field) field.focus();
    else problemRef.current?.scrollIntoView({ block: "center" });
  }, [problem]);

  const update = (next: AgentFormValues, touched?: FieldKey) => {
    setValues(next);
    if (touched && errors[touched]) {
      setErrors((prev) => Object.fromEntries(Object.entries(prev).filter(([k]) => k !== touched)));
    }
    if (touched && touched === serverField) setDismissed(problem);
  };
  const setNumber = (field: NumericField, v: string) => update({ ...values, numbers: { ...values.numbers, [field]: v } }, field);

  const submit = (e: SyntheticEvent) => {
    e.preventDefault();
    const found = validate(values, { create });
    setErrors(found);
    if (Object.keys(found).length > 0) {
      focusPending.current = true;
      return;
    }
    onSubmit(values);
  };

  const n = (spec: NumberSpec) => <NumberInput key={spec.field} spec={spec} values={values} errors={fieldErrors} set={setNumber} />;

  return (
    <form ref={formRef} onSubmit={submit} noValidate className="space-y-6" aria-label={create ? "New agent" : "Agent settings"}>
      <div ref={problemRef}>{problem != null && <ProblemMessage error={problem} />}</div>
      <fieldset disabled={disabled || submitting} className="space-y-6">
        <Section title="Basics">
          <Field label="Name" error={fieldErrors.name} required hint={`Unique in the organisation, up to ${TEXT_LIMITS.name.max} characters.`}>
            {(p) => (
              <Input {...p} value={values.name} onChange={(e) => update({ ...values, name: e.target.value }, "name")} />
            )}
          </Field>
          <Field label="Description" hint="What it is for (shown in lists and pickers).">
            {(p) => <Textarea {...p} rows={2} value={values.description} onChange={(e) => update({ ...values, description: e.target.value })} />}
          </Field>
          {create && (
            <Field
              label="System prompt"
              error={fieldErrors.systemPrompt}
              required
              hint="Version 1 of the prompt; later versions are made on the agent's Prompts tab."
            >
              {(p) => (
                <Textarea
                  {...p}
                  rows={10}
                  className="font-mono text-xs"
                  value={values.systemPrompt}
                  onChange={(e) => update({ ...values, systemPrompt: e.target.value }, "systemPrompt")}
                />
              )}
            </Field>
          )}
          <label className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              className={checkboxClass}
              checked={values.enabled}
              onChange={(e) => update({ ...values, enabled: e.target.checked })}
            />
            Enabled (a disabled agent cannot start runs)
          </label>
        </Section>

        <Section title="Model and planning">
          <div className="grid gap-4 sm:grid-cols-2">
            <Field label="Planning mode" hint={MODE_HINTS[values.mode]} error={fieldErrors.mode}>
              {(p) => (
                <Select {...p} value={values.mode} onChange={(e) => update({ ...values, mode: e.target.value }, "mode")}>
                  {PLANNING_MODES.map((m) => (
                    <option key={m} value={m}>
                      {modeLabel(m)}
                    </option>
                  ))}
                </Select>
              )}
            </Field>
            <Field label="Model" hint="Empty: the provider's default model." error={fieldErrors.model}>
              {(p) => (
                <Input
                  {...p}
                  autoComplete="off"
                  spellCheck={false}
                  value={values.model}
                 
                  onChange={(e) => update({ ...values, model: e.target.value }, "model")}
                />
              )}
            </Field>
            {values.mode === "loop_with_limits" && n({ field: "max_turns", label: "Turn limit", hint: "Model turns" })}
            {values.mode === "plan_and_execute" && n({ field: "max_turns_per_step", label: "Turns per step" })}
            {values.mode === "plan_and_execute" && n({ field: "max_replans", label: "Re-plans", hint: "After failed steps" })}
            {n({ field: "max_parallel_tool_calls", label: "Parallel tool calls", hint: "Per turn" })}
            {n({ field: "max_output_tokens", label: "Output tokens per call", optional: true, empty: "the provider decides" })}
            {n({ field: "temperature", label: "Temperature", optional: true, empty: "the provider's default" })}
            {n({ field: "retrieval_top_k", label: "Retrieved passages", hint: "At the start of a run" })}
          </div>
        </Section>

        <Section title="Tools and approval">
          <Field
            label="Ask for approval from risk"
            hint="Calls of tools at this risk or above wait for a person, unless the tool says otherwise below."
            error={fieldErrors.approval}
            className="sm:w-80"
          >
            {(p) => (
              <Select
                {...p}
                value={values.fromRisk}
                onChange={(e) => update({ ...values, fromRisk: e.target.value as AgentFormValues["fromRisk"] }, "approval")}
              >
                {RISK_LEVELS.map((r) => (
                  <option key={r} value={r}>
                    {r.charAt(0).toUpperCase() + r.slice(1)} risk and above
                  </option>
                ))}
                <option value="">Never by risk alone</option>
              </Select>
            )}
          </Field>
          <ToolPicker values={values} onChange={(v) => update(v, "tools")} error={fieldErrors.tools} />
        </Section>

        <Section title="Budgets" description="Hard limits for one run; a run that reaches one stops with what it has.">
          <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-3">
            {n({ field: "budget.max_model_calls", label: "Model calls", optional: true })}
            {n({ field: "budget.max_tool_calls", label: "Tool calls", optional: true })}
            {n({ field: "budget.max_total_tokens", label: "Tokens", hint: "Input, cache and output", optional: true })}
            {n({ field: "budget.max_cost_usd", label: "Cost (US dollars)", hint: "Needs prices", optional: true })}
            {n({ field: "budget.max_wall_clock_ms", label: "Active time (seconds)", unit: "s", hint: "Waiting for approval excluded", optional: true })}
          </div>
        </Section>

        <Section title="Prices" description="US dollars per million tokens, for cost accounting and the cost budget.">
          <label className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              className={checkboxClass}
              checked={values.pricing}
              onChange={(e) => update({ ...values, pricing: e.target.checked })}
            />
            Set prices for this agent's model
          </label>
          {values.pricing && (
            <div className="grid gap-4 sm:grid-cols-2 lg:grid-cols-4">
              {n({ field: "pricing.input_per_mtok", label: "Input" })}
              {n({ field: "pricing.output_per_mtok", label: "Output" })}
              {n({ field: "pricing.cache_read_per_mtok", label: "Cache read", optional: true, empty: "0" })}
              {n({ field: "pricing.cache_write_per_mtok", label: "Cache write", optional: true, empty: "0" })}
            </div>
          )}
        </Section>
      </fieldset>

      <div className="flex flex-wrap items-center gap-3">
        <Button type="submit" variant="primary" loading={submitting} disabled={disabled}>
          {submitLabel}
        </Button>
        {footer}
      </div>
    </form>
  );
}
