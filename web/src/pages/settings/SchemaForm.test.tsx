/** Renders `SchemaForm` to static HTML (the test environment has no DOM) and checks what users and tests rely on. */
import { renderToStaticMarkup } from "react-dom/server";
import { describe, expect, it } from "vitest";
import { SchemaForm } from "./SchemaForm";
import { describeSchema, initialValues, validateValues, type FormDescriptor, type FormObject } from "./schemaForm";

const settings = {
  type: "object",
  properties: {
    base_url: { type: "string", description: "The API, e.g. `https://x.example.com`." },
    timeout_secs: { type: ["integer", "null"], minimum: 1, maximum: 600 },
    verify: { type: "boolean", default: true },
    scopes: { type: "array", items: { type: "string" } },
  },
  required: ["base_url"],
};

const credentials = {
  type: "object",
  properties: { api_token: { type: "string", description: "The token." } },
  required: ["api_token"],
};

function render(form: FormDescriptor, values: FormObject, opts: { showAllErrors?: boolean; storedSecret?: boolean } = {}) {
  return renderToStaticMarkup(
    <SchemaForm form={form} values={values} onChange={() => undefined} errors={validateValues(form.fields, values)} {...opts} />,
  );
}

function labelFor(html: string, text: string): string | null {
  const m = new RegExp(`<label[^>]*for="([^"]+)"[^>]*>${text}`).exec(html);
  return m?.[1] ?? null;
}

describe("SchemaForm", () => {
  it("labels every control, marks required ones and shows descriptions and bounds as hints", () => {
    const form = describeSchema(settings);
    const html = render(form, initialValues(form.fields));
    const id = labelFor(html, "Base URL");
    expect(id).not.toBeNull();
    expect(html).toMatch(new RegExp(`<input[^>]*id="${id ?? ""}"[^>]*required`));
    expect(html).toContain("<code");
    expect(html).toContain("A whole number from 1 to 600.");
    expect(labelFor(html, "Timeout secs")).not.toBeNull();
    expect(html).toMatch(/<input[^>]*type="checkbox"[^>]*checked/);
    expect(html).toContain("<legend");
    expect(html).toContain("Add scope");
  });

  it("shows errors only when asked (after a submit attempt)", () => {
    const form = describeSchema(settings);
    const values = initialValues(form.fields);
    expect(render(form, values)).not.toContain("Required.");
    const html = render(form, values, { showAllErrors: true });
    expect(html).toContain("Required.");
    expect(html).toContain('aria-invalid="true"');
  });

  it("renders credentials as empty password inputs that say they are stored", () => {
    const form = describeSchema(credentials, { secret: true });
    const html = render(form, initialValues(form.fields, { api_token: "should-not-appear" }), { storedSecret: true });
    expect(html).toMatch(/<input[^>]*type="password"/);
    expect(html).toMatch(/autocomplete="new-password"/i);
    expect(html).not.toContain("should-not-appear");
    expect(html).toContain("Stored — leave empty to keep.");
  });
});
