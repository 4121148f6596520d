import { describe, expect, it } from "vitest";
import {
  buildRoot,
  buildValue,
  checkCidr,
  cleanEgress,
  describeSchema,
  humanize,
  initialValues,
  isBlank,
  switchVariant,
  validateEgress,
  validateValues,
  type EnumField,
  type FieldDescriptor,
  type FormObject,
} from "./schemaForm";

// Schemas shaped like the ones schemars generates for the server's tool kinds (secops-tools/src/catalog).

const splunkSettings = {
  title: "SplunkSettings",
  description: "Splunk settings.",
  type: "object",
  properties: {
    base_url: { description: "The management API, e.g. `https://splunk.example.com:8089`.", type: "string", format: "uri" },
  },
  required: ["base_url"],
  additionalProperties: false,
};

const splunkCredentials = {
  title: "SplunkCredentials",
  description: "Splunk credentials: a token, or a user and password.",
  type: "object",
  properties: {
    token: { description: "A Splunk authentication token.", type: ["string", "null"], default: null },
    username: { description: "A user, with `password`.", type: ["string", "null"], default: null },
    password: { description: "The user's password.", type: ["string", "null"], default: null },
  },
  additionalProperties: false,
};

const mcpSettings = {
  title: "McpSettings",
  type: "object",
  properties: {
    url: { description: "The server's streamable HTTP endpoint.", type: "string" },
    risk: {
      description: "Risk per tool.",
      type: "object",
      additionalProperties: { $ref: "#/$defs/RiskLevel" },
      default: {},
    },
    timeout_secs: {
      description: "Seconds each request may take (default 60).",
      type: ["integer", "null"],
      format: "uint64",
      minimum: 1,
      maximum: 600,
      default: null,
    },
  },
  required: ["url"],
  additionalProperties: false,
  $defs: {
    RiskLevel: {
      oneOf: [
        { description: "Reads data.", type: "string", const: "low" },
        { description: "Changes something recoverable.", type: "string", const: "medium" },
        { description: "Acts on the estate.", type: "string", const: "high" },
      ],
    },
  },
};

const mcpCredentials = {
  title: "McpCredentials",
  type: "object",
  properties: {
    bearer_token: { description: "Sent as `Authorization: Bearer <token>`.", type: ["string", "null"], default: null },
    headers: { description: "Other headers carrying secrets.", type: "object", additionalProperties: { type: "string" }, default: {} },
  },
  additionalProperties: false,
};

/** A nested object, an array of strings, an array of objects and a tagged union (like the `http` kind). */
const httpLike = {
  type: "object",
  properties: {
    name: { type: "string", minLength: 1, maxLength: 32, pattern: "^[a-z][a-z0-9-]*$", description: "The name." },
    enabled: { type: "boolean", default: true },
    verify_tls: { type: "boolean" },
    retries: { type: "integer", minimum: 0, maximum: 5, default: 2 },
    ratio: { type: "number", exclusiveMinimum: 0, maximum: 1 },
    method: { type: "string", enum: ["GET", "POST"] },
    scopes: { type: "array", items: { type: "string", minLength: 2 }, uniqueItems: true, maxItems: 3 },
    connection: {
      description: "Where to connect.",
      type: "object",
      properties: {
        host: { type: "string", format: "hostname" },
        port: { type: "integer", minimum: 1, maximum: 65535 },
      },
      required: ["host"],
    },
    proxy: {
      anyOf: [{ $ref: "#/$defs/Proxy" }, { type: "null" }],
      description: "An optional proxy.",
    },
    tools: { type: "array", items: { $ref: "#/$defs/Tool" } },
    auth: { $ref: "#/$defs/Auth" },
    body: true,
  },
  required: ["name", "method", "connection", "tools"],
  $defs: {
    Proxy: {
      title: "Proxy",
      type: "object",
      properties: { url: { type: "string", format: "uri" } },
      required: ["url"],
    },
    Tool: {
      type: "object",
      properties: {
        name: { type: "string" },
        query: { type: "object", additionalProperties: { type: "string" }, default: {} },
        input: true,
      },
      required: ["name", "input"],
    },
    Auth: {
      oneOf: [
        { description: "No authentication.", type: "object", properties: { type: { type: "string", const: "none" } }, required: ["type"] },
        {
          description: "An API key in a header.",
          type: "object",
          properties: { type: { type: "string", const: "api_key_header" }, header: { type: "string", description: "The header." } },
          required: ["type", "header"],
        },
      ],
    },
  },
};

/** The field `key`, which must be of `kind`. */
function field<K extends FieldDescriptor["kind"]>(fields: FieldDescriptor[], key: string, kind: K): Extract<FieldDescriptor, { kind: K }> {
  const f = fields.find((x) => x.key === key);
  if (!f) throw new Error(`no field ${key}`);
  expect(f.kind).toBe(kind);
  return f as Extract<FieldDescriptor, { kind: K }>;
}

describe("humanize", () => {
  it("turns keys into labels with acronyms", () => {
    expect(humanize("base_url")).toBe("Base URL");
    expect(humanize("client_id")).toBe("Client ID");
    expect(humanize("api_token")).toBe("API token");
    expect(humanize("timeoutSecs")).toBe("Timeout secs");
  });
});

describe("describeSchema", () => {
  it("describes a flat object with a required, formatted string", () => {
    const form = describeSchema(splunkSettings);
    expect(form.rawRoot).toBe(false);
    expect(form.description).toBe("Splunk settings.");
    expect(form.fields).toHaveLength(1);
    const baseUrl = field(form.fields, "base_url", "string");
    expect(baseUrl).toMatchObject({ kind: "string", label: "Base URL", required: true, nullable: false, format: "uri", inputType: "url" });
    expect(baseUrl.description).toContain("management API");
  });

  it("marks credentials as secret password fields, nullable and optional, with null defaults dropped", () => {
    const form = describeSchema(splunkCredentials, { secret: true });
    expect(form.fields.map((f) => f.key)).toEqual(["token", "username", "password"]);
    for (const f of form.fields) {
      expect(f).toMatchObject({ kind: "string", secret: true, required: false, nullable: true, inputType: "password" });
      expect(f.default).toBeUndefined();
    }
  });

  it("resolves $ref, maps of enums (oneOf consts with descriptions) and bounded nullable integers", () => {
    const form = describeSchema(mcpSettings);
    const risk = field(form.fields, "risk", "map");
    expect(risk.kind).toBe("map");
    expect(risk.value.kind).toBe("enum");
    const options = (risk.value as EnumField).options;
    expect(options.map((o) => o.value)).toEqual(["low", "medium", "high"]);
    expect(options[2]?.description).toBe("Acts on the estate.");
    const timeout = field(form.fields, "timeout_secs", "number");
    expect(timeout).toMatchObject({ kind: "number", integer: true, minimum: 1, maximum: 600, nullable: true, required: false });
  });

  it("describes nested objects, lists, object lists, unions and raw JSON", () => {
    const form = describeSchema(httpLike);
    const kinds = Object.fromEntries(form.fields.map((f) => [f.key, f.kind]));
    expect(kinds).toEqual({
      name: "string",
      enabled: "boolean",
      verify_tls: "boolean",
      retries: "number",
      ratio: "number",
      method: "enum",
      scopes: "list",
      connection: "object",
      proxy: "object",
      tools: "objectList",
      auth: "union",
      body: "json",
    });
    const scopes = field(form.fields, "scopes", "list");
    expect(scopes).toMatchObject({ uniqueItems: true, maxItems: 3 });
    expect(scopes.item).toMatchObject({ kind: "string", minLength: 2, label: "Scope" });

    const connection = field(form.fields, "connection", "object");
    expect(connection.required).toBe(true);
    expect(connection.description).toBe("Where to connect.");
    expect(connection.fields.map((f) => [f.key, f.required])).toEqual([
      ["host", true],
      ["port", false],
    ]);

    // `anyOf: [$ref, null]`: an optional object with the site's description, not the target's title as label.
    const proxy = field(form.fields, "proxy", "object");
    expect(proxy).toMatchObject({ nullable: true, required: false, label: "Proxy", description: "An optional proxy." });

    const tools = field(form.fields, "tools", "objectList");
    expect(tools.itemLabel).toBe("Tool");
    expect(tools.fields.map((f) => [f.key, f.kind, f.required])).toEqual([
      ["name", "string", true],
      ["query", "map", false],
      ["input", "json", true],
    ]);

    const auth = field(form.fields, "auth", "union");
    expect(auth.discriminator).toBe("type");
    expect(auth.variants.map((v) => v.value)).toEqual(["none", "api_key_header"]);
    expect(auth.variants[1]?.fields.map((f) => f.key)).toEqual(["header"]);
    expect(auth.variants[1]?.description).toBe("An API key in a header.");

    expect(field(form.fields, "body", "json")).toMatchObject({ expect: "any", required: false });
    expect(field(form.fields, "retries", "number").default).toBe(2);
    expect(field(form.fields, "ratio", "number")).toMatchObject({ exclusiveMinimum: 0, maximum: 1 });
  });

  it("has no fields for an object that takes none, and falls back to JSON for odd roots", () => {
    expect(describeSchema({ title: "NoSettings", type: "object", additionalProperties: false })).toMatchObject({ fields: [], rawRoot: false });
    const odd = describeSchema({ oneOf: [{ type: "string" }, { type: "object", properties: { a: { type: "string" } } }] });
    expect(odd.rawRoot).toBe(true);
    expect(odd.fields[0]?.kind).toBe("json");
  });
});

describe("initialValues", () => {
  it("uses defaults when there is no data", () => {
    const form = describeSchema(httpLike);
    const v = initialValues(form.fields);
    expect(v.enabled).toBe(true);
    expect(v.verify_tls).toBe(false);
    expect(v.retries).toBe("2");
    expect(v.name).toBe("");
    expect(v.scopes).toEqual([]);
    expect(v.connection).toEqual({ host: "", port: "" });
    // An optional union starts unset.
    expect(v.auth).toEqual({ variant: "", values: {} });
  });

  it("fills from existing data, converting numbers, enums, maps and union variants", () => {
    const form = describeSchema(httpLike);
    const v = initialValues(form.fields, {
      name: "intel",
      retries: 4,
      method: "POST",
      scopes: ["read", "write"],
      connection: { host: "intel.example.com", port: 8443 },
      tools: [{ name: "lookup", query: { q: "{{ip}}" } }],
      auth: { type: "api_key_header", header: "X-Api-Key" },
      body: { a: 1 },
    });
    expect(v.retries).toBe("4");
    expect(v.method).toBe("POST");
    expect(v.connection).toEqual({ host: "intel.example.com", port: "8443" });
    expect(v.tools).toEqual([{ name: "lookup", query: [{ key: "q", value: "{{ip}}" }], input: "" }]);
    expect(v.auth).toEqual({ variant: "api_key_header", values: { header: "X-Api-Key" } });
    expect(JSON.parse(v.body as string)).toEqual({ a: 1 });
  });

  it("never pre-fills secrets", () => {
    const form = describeSchema(mcpCredentials, { secret: true });
    const v = initialValues(form.fields, { bearer_token: "tok", headers: { "X-Api-Key": "k" } });
    expect(v).toEqual({ bearer_token: "", headers: [] });
  });
});

describe("validateValues", () => {
  const form = describeSchema(httpLike);
  const valid = (): FormObject => ({
    ...initialValues(form.fields),
    name: "intel",
    method: "GET",
    connection: { host: "intel.example.com", port: "" },
  });

  it("accepts valid values", () => {
    expect(validateValues(form.fields, valid())).toEqual({});
  });

  it("reports required fields, including in a required nested object", () => {
    const errors = validateValues(form.fields, initialValues(form.fields));
    expect(errors).toMatchObject({ name: "Required.", method: "Choose one.", "connection.host": "Required." });
  });

  it("checks minLength, maxLength and pattern", () => {
    expect(validateValues(form.fields, { ...valid(), name: "Intel" }).name).toMatch(/expected form/);
    expect(validateValues(form.fields, { ...valid(), name: "a".repeat(33) }).name).toBe("Use at most 32 characters.");
    const scopes = validateValues(form.fields, { ...valid(), scopes: ["x", "ok", "ok"] });
    expect(scopes["scopes.0"]).toBe("Use at least 2 characters.");
    expect(scopes["scopes.2"]).toBe("Duplicate entry.");
    expect(validateValues(form.fields, { ...valid(), scopes: ["aa", "bb", "cc", "dd"] }).scopes).toBe("At most 3 entries.");
  });

  it("checks integers and bounds", () => {
    expect(validateValues(form.fields, { ...valid(), retries: "6" }).retries).toBe("Must be at most 5.");
    expect(validateValues(form.fields, { ...valid(), retries: "-1" }).retries).toBe("Must be at least 0.");
    expect(validateValues(form.fields, { ...valid(), retries: "1.5" }).retries).toBe("Enter a whole number.");
    expect(validateValues(form.fields, { ...valid(), retries: "12a" }).retries).toBe("Enter a whole number.");
    expect(validateValues(form.fields, { ...valid(), ratio: "0" }).ratio).toBe("Must be more than 0.");
    expect(validateValues(form.fields, { ...valid(), ratio: "0.5" }).ratio).toBeUndefined();
    expect(validateValues(form.fields, { ...valid(), connection: { host: "h", port: "70000" } })["connection.port"]).toBe("Must be at most 65535.");
  });

  it("checks enums and formats", () => {
    expect(validateValues(form.fields, { ...valid(), method: "PUT" }).method).toBe("Choose one of the options.");
    expect(validateValues(form.fields, { ...valid(), connection: { host: "not a host!", port: "" } })["connection.host"]).toBe("Enter a host name.");
    const splunk = describeSchema(splunkSettings);
    expect(validateValues(splunk.fields, { base_url: "splunk:8089" }).base_url).toMatch(/URL/);
    expect(validateValues(splunk.fields, { base_url: "https://splunk.example.com:8089" })).toEqual({});
  });

  it("skips an optional object left empty but checks it once something is typed", () => {
    expect(validateValues(form.fields, { ...valid(), proxy: { url: "" } })).toEqual({});
    expect(validateValues(form.fields, { ...valid(), proxy: { url: "nope" } })["proxy.url"]).toMatch(/URL/);
  });

  it("checks object-list items, union variants, maps and JSON by path", () => {
    const errors = validateValues(form.fields, {
      ...valid(),
      tools: [
        { name: "ok", query: [], input: '{"type": "object"}' },
        { name: "", query: [{ key: "", value: "x" }, { key: "a", value: "1" }, { key: "a", value: "2" }], input: "" },
      ],
      auth: { variant: "api_key_header", values: { header: "" } },
      body: "{ nope",
    });
    expect(errors).toEqual({
      "tools.1.name": "Required.",
      "tools.1.input": "Required.",
      "tools.1.query.0.key": "Enter a name.",
      "tools.1.query.2.key": "Duplicate name.",
      "auth.header": "Required.",
      body: "Not valid JSON.",
    });
  });
});

describe("buildValue", () => {
  it("omits empty optional fields and converts types", () => {
    const form = describeSchema(httpLike);
    const values: FormObject = {
      ...initialValues(form.fields),
      name: "intel",
      method: "GET",
      retries: "3",
      scopes: ["read", "", "write"],
      connection: { host: "intel.example.com", port: "" },
      proxy: { url: "" },
      tools: [{ name: "lookup", query: [{ key: "q", value: "{{ip}}" }, { key: "", value: "" }], input: "{}" }],
      auth: { variant: "api_key_header", values: { header: "X-Api-Key" } },
      body: '{"a": [1, 2]}',
    };
    expect(buildValue(form.fields, values)).toEqual({
      name: "intel",
      // `enabled` equals its default (true) and `verify_tls` is false without a default: both left out.
      retries: 3,
      method: "GET",
      scopes: ["read", "write"],
      connection: { host: "intel.example.com" },
      tools: [{ name: "lookup", query: { q: "{{ip}}" }, input: {} }],
      auth: { type: "api_key_header", header: "X-Api-Key" },
      body: { a: [1, 2] },
    });
  });

  it("sends booleans that differ from the default, and required empty lists", () => {
    const form = describeSchema(httpLike);
    const built = buildValue(form.fields, { ...initialValues(form.fields), enabled: false, verify_tls: true });
    expect(built.enabled).toBe(false);
    expect(built.verify_tls).toBe(true);
    expect(built.tools).toEqual([]);
    expect(built).not.toHaveProperty("scopes");
    expect(built).not.toHaveProperty("auth");
  });

  it("sends an enum map and leaves out an unset optional integer", () => {
    const form = describeSchema(mcpSettings);
    const values = { ...initialValues(form.fields), url: "https://mcp.example.com/mcp", risk: [{ key: "delete_all", value: "high" }] };
    expect(buildValue(form.fields, values)).toEqual({ url: "https://mcp.example.com/mcp", risk: { delete_all: "high" } });
    expect(buildValue(form.fields, { ...values, timeout_secs: "30" }).timeout_secs).toBe(30);
  });

  it("leaves out empty credentials, so nothing replaces the stored ones", () => {
    const form = describeSchema(splunkCredentials, { secret: true });
    const empty = initialValues(form.fields);
    expect(buildValue(form.fields, empty)).toEqual({});
    expect(isBlank(form, empty)).toBe(true);
    const typed = { ...empty, username: "svc", password: "s3cret" };
    expect(isBlank(form, typed)).toBe(false);
    expect(buildValue(form.fields, typed)).toEqual({ username: "svc", password: "s3cret" });

    const mcp = describeSchema(mcpCredentials, { secret: true });
    expect(isBlank(mcp, { bearer_token: "", headers: [{ key: "", value: "" }] })).toBe(true);
    expect(buildRoot(mcp, { bearer_token: "", headers: [{ key: "X-Api-Key", value: "k" }] })).toEqual({ headers: { "X-Api-Key": "k" } });
  });

  it("round-trips existing settings unchanged", () => {
    const form = describeSchema(mcpSettings);
    const stored = { url: "https://mcp.example.com/mcp", risk: { wipe: "high" }, timeout_secs: 90 };
    expect(buildValue(form.fields, initialValues(form.fields, stored))).toEqual(stored);
  });
});

describe("switchVariant", () => {
  it("starts the new variant's fields and keeps those of the same name", () => {
    const form = describeSchema(httpLike);
    const auth = field(form.fields, "auth", "union");
    const next = switchVariant(auth, { variant: "none", values: {} }, "api_key_header");
    expect(next).toEqual({ variant: "api_key_header", values: { header: "" } });
    expect(switchVariant(auth, next, "")).toEqual({ variant: "", values: {} });
  });
});

describe("egress allow-list", () => {
  it("accepts CIDR ranges and explains what is wrong", () => {
    expect(checkCidr("10.20.0.0/16")).toBeNull();
    expect(checkCidr("10.20.0.5/32")).toBeNull();
    expect(checkCidr("fd00::/8")).toBeNull();
    expect(checkCidr("::1/128")).toBeNull();
    expect(checkCidr("10.20.0.5")).toBe("Add a prefix length: 10.20.0.5/32 for this one address.");
    expect(checkCidr("10.0.0.0/33")).toMatch(/0 to 32/);
    expect(checkCidr("intranet.example.com")).toMatch(/host names are not accepted/);
    expect(checkCidr("300.1.1.1/8")).toMatch(/CIDR/);
  });

  it("validates a list by index and cleans it for submission", () => {
    const errors = validateEgress(["10.0.0.0/8", "  ", "bad", "10.0.0.0/8"]);
    expect(Object.keys(errors).sort()).toEqual(["2", "3"]);
    expect(errors["2"]).toMatch(/CIDR/);
    expect(errors["3"]).toBe("Duplicate entry.");
    expect(validateEgress(Array.from({ length: 3 }, (_, i) => `10.0.${i}.0/24`), 2).list).toBe("At most 2 ranges.");
    expect(cleanEgress([" 10.0.0.0/8 ", "", "fd00::/8"])).toEqual(["10.0.0.0/8", "fd00::/8"]);
  });
});
