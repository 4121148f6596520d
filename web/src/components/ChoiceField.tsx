/**
 * A labelled `<select>` whose first option is "no choice" (the empty value): the filter dropdowns of the
 * list pages ("Any status", "Any level", …).
 *
 * ```tsx
 * <ChoiceField label="Level" none="Any level" value={filters.level} options={LEVELS} labelOf={levelLabel}
 *   onChange={(level) => setFilters({ level })} />
 * ```
 */
import { Field } from "./Field";
import { Select } from "./Input";

export function ChoiceField<V extends string>({
  label,
  none,
  value,
  options,
  labelOf = (v) => v,
  onChange,
  hint,
  error,
  className,
}: {
  label: string;
  /** The label of the empty choice. */
  none: string;
  value: string;
  options: readonly V[];
  labelOf?: (v: V) => string;
  /** The chosen value, `""` for none. */
  onChange: (value: string) => void;
  hint?: string;
  error?: string | null;
  className?: string;
}) {
  return (
    <Field label={label} hint={hint} error={error ?? undefined} className={className}>
      {(p) => (
        <Select {...p} value={value} onChange={(e) => onChange(e.target.value)}>
          <option value="">{none}</option>
          {options.map((o) => (
            <option key={o} value={o}>
              {labelOf(o)}
            </option>
          ))}
        </Select>
      )}
    </Field>
  );
}
