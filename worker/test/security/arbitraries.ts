/**
 * fast-check arbitraries for API fuzzing, derived from the contract's zod schemas (through their JSON
 * Schema): values that satisfy the schema, "almost valid" values one mutation away from it, and
 * plain junk — arbitrary JSON, hostile strings and bodies that are not JSON at all.
 */
import fc from "fast-check";
import { z } from "zod";

type JsonSchema = z.core.JSONSchema.JSONSchema;
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export const jsonSchemaOf = (schema: z.ZodType): JsonSchema =>
  z.toJSONSchema(schema, { io: "input", unrepresentable: "any" });

const asSchema = (value: z.core.JSONSchema._JSONSchema | undefined): JsonSchema =>
  typeof value === "object" ? value : {};
const typeOf = (schema: JsonSchema): string | undefined => (Array.isArray(schema.type) ? schema.type[0] : schema.type);

/** Strings that have broken parsers, loggers and databases before. */
export const HOSTILE_STRINGS: string[] = [
  "",
  " ",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "\uDFFF\uD800",
  "\u202Egnp.exe",
  "\uFEFF",
  "𝕳𝖊𝖑𝖑𝖔 🧨👩‍👩‍👧‍👦",
  "e\u0301\u0301\u0301\u0301",
  "%00%2e%2e%2f",
  "../../../../etc/passwd",
  "' OR 1=1 --",
  '"; DROP TABLE users; --',
  "%_\\",
  "<script>alert(1)</script>",
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log-injection payload, meant literally.
  "${jndi:ldap://x}",
  "{{7*7}}",
  "__proto__",
  "constructor",
  "NaN",
  "Infinity",
  "-0",
  "1e309",
  "0x10",
  "\r\nSet-Cookie: x=1",
  "\t\n\v\f\r",
  "null",
  "true",
  "[]",
  "{}",
];

/** A string of `length` characters, cheap to build even when huge. */
const longString = fc
  .tuple(fc.constantFrom("a", "é", "😀", " ", "\u0000", "<"), fc.constantFrom(201, 257, 4001, 65_537, 1_000_000))
  .map(([unit, length]) => unit.repeat(length));

export const junkString: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.constantFrom(...HOSTILE_STRINGS), weight: 3 },
  { arbitrary: fc.string({ unit: "binary", maxLength: 64 }), weight: 3 },
  { arbitrary: fc.string({ unit: "grapheme", maxLength: 64 }), weight: 2 },
  { arbitrary: longString, weight: 1 },
);

const junkNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(
    0,
    -0,
    -1,
    1,
    0.5,
    -0.5,
    2 ** 31,
    2 ** 32,
    2 ** 53,
    -(2 ** 53),
    Number.MAX_VALUE,
    Number.MIN_VALUE,
    -Number.MAX_VALUE,
    1e-300,
  ),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, including deep and wide junk. */
export const junkJson: fc.Arbitrary<Json> = fc.oneof(
  { arbitrary: fc.jsonValue({ maxDepth: 4 }).map((value) => value as Json), weight: 4 },
  { arbitrary: junkString, weight: 2 },
  { arbitrary: junkNumber, weight: 1 },
  {
    arbitrary: fc.dictionary(
      fc.constantFrom(...HOSTILE_STRINGS, "email", "password", "title", "model", "name"),
      junkString,
      { maxKeys: 6 },
    ),
    weight: 2,
  },
  { arbitrary: fc.integer({ min: 100, max: 5_000 }).map((depth) => deepArray(depth)), weight: 1 },
);

function deepArray(depth: number): Json {
  let value: Json = [];
  for (let i = 0; i < depth; i++) value = [value];
  return value;
}

/** A value of the wrong JSON type for `schema`. */
function wrongType(schema: JsonSchema): fc.Arbitrary<Json> {
  const type = typeOf(schema);
  const candidates: fc.Arbitrary<Json>[] = [fc.constant(null)];
  if (type !== "string") candidates.push(junkString);
  if (type !== "number" && type !== "integer") candidates.push(junkNumber);
  if (type !== "boolean") candidates.push(fc.boolean());
  if (type !== "array") candidates.push(fc.array(junkString, { maxLength: 3 }));
  if (type !== "object") candidates.push(fc.dictionary(fc.string({ maxLength: 8 }), junkString, { maxKeys: 3 }));
  return fc.oneof(...candidates);
}

function validString(schema: JsonSchema, key: string): fc.Arbitrary<string> {
  // Plain addresses (which every validator takes) and RFC 5322 oddities (which some refuse).
  if (key === "email")
    return fc.oneof(
      fc
        .tuple(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,20}$/), fc.constantFrom("example.com", "mail.example.org"))
        .map(([local, domain]) => `${local}@${domain}`),
      fc.emailAddress(),
    );
  if (schema.enum) return fc.constantFrom(...schema.enum.filter((value): value is string => typeof value === "string"));
  if (schema.pattern) {
    const pattern = new RegExp(schema.pattern);
    return fc.stringMatching(pattern).filter((value) => value.length <= (schema.maxLength ?? Infinity));
  }
  const minLength = schema.minLength ?? 0;
  const maxLength = Math.min(schema.maxLength ?? 64, 300);
  // Visible characters, so trimming cannot take a valid value under its minimum.
  return fc
    .string({ unit: "grapheme", minLength, maxLength })
    .filter(
      (value) =>
        value.trim().length >= minLength &&
        [...value].length <= (schema.maxLength ?? Infinity) &&
        value.length <= (schema.maxLength ?? Infinity),
    );
}

/** Values that satisfy `schema` (best effort; the server is the judge). */
export function validOf(schema: JsonSchema, key = ""): fc.Arbitrary<Json> {
  if (schema.anyOf?.length) return fc.oneof(...schema.anyOf.map((option) => validOf(option, key)));
  if (schema.enum) return fc.constantFrom(...schema.enum);
  switch (typeOf(schema)) {
    case "string":
      return validString(schema, key);
    case "integer":
      return fc.integer({ min: schema.minimum ?? -1_000_000, max: schema.maximum ?? 1_000_000 });
    case "number":
      return fc.double({
        min: schema.minimum ?? -1e6,
        max: schema.maximum ?? 1e6,
        noNaN: true,
        noDefaultInfinity: true,
      });
    case "boolean":
      return fc.boolean();
    case "null":
      return fc.constant(null);
    case "array": {
      const items = Array.isArray(schema.items) ? {} : asSchema(schema.items);
      return fc.array(validOf(items, key), {
        minLength: schema.minItems ?? 0,
        maxLength: Math.min(schema.maxItems ?? 4, 8),
      });
    }
    case "object": {
      const properties = schema.properties ?? {};
      const record: Record<string, fc.Arbitrary<Json>> = {};
      for (const [name, property] of Object.entries(properties)) record[name] = validOf(asSchema(property), name);
      return fc
        .record(record, { requiredKeys: (schema.required ?? []).filter((name) => name in properties) })
        .map((value) => value as Json);
    }
    default:
      return junkJson;
  }
}

/** Values just outside `schema`: boundaries crossed by one, wrong types, hostile strings. */
export function nearMissOf(schema: JsonSchema, key = ""): fc.Arbitrary<Json> {
  const options: fc.Arbitrary<Json>[] = [wrongType(schema)];
  const type = typeOf(schema);
  if (type === "string") {
    if (schema.minLength !== undefined && schema.minLength > 0)
      options.push(fc.constantFrom("", " ".repeat(schema.minLength + 2), "\t\n"));
    if (schema.maxLength !== undefined)
      options.push(fc.constantFrom("x".repeat(schema.maxLength + 1), "😀".repeat(Math.ceil(schema.maxLength / 2) + 1)));
    if (schema.enum)
      options.push(fc.constantFrom(...schema.enum.map((value) => String(value).toUpperCase()), "", "updated ", "asc;"));
    if (schema.pattern)
      options.push(fc.constantFrom("owner", "/name", "owner/", "a/b/c", "OWNER NAME/x", "../x", "owner/name?x=1"));
    if (key === "email")
      options.push(
        fc.constantFrom(
          "a@",
          "@b.co",
          "a@b",
          "a b@c.de",
          "a@b.co\u0000",
          `${"a".repeat(300)}@example.com`,
          "A@B.CO ".repeat(3),
        ),
      );
    options.push(junkString);
  }
  if (type === "integer" || type === "number") {
    const edges: number[] = [];
    if (schema.minimum !== undefined) edges.push(schema.minimum - 1, schema.minimum - 0.001);
    if (schema.maximum !== undefined) edges.push(schema.maximum + 1, schema.maximum + 0.001);
    if (type === "integer") edges.push((schema.minimum ?? 0) + 0.5);
    edges.push(1e308, -1e308);
    options.push(fc.constantFrom(...edges), fc.constantFrom("64", "1e3", "", "NaN"));
  }
  if (type === "array") {
    const items = Array.isArray(schema.items) ? {} : asSchema(schema.items);
    options.push(
      fc.array(validOf(items, key), { minLength: (schema.maxItems ?? 8) + 1, maxLength: (schema.maxItems ?? 8) + 3 }),
    );
    options.push(fc.array(nearMissOf(items, key), { minLength: 1, maxLength: 3 }));
  }
  if (type === "object") {
    const properties = Object.entries(schema.properties ?? {});
    const base = validOf(schema, key);
    // One property replaced by a near miss of its own.
    if (properties.length) {
      options.push(
        fc
          .tuple(base, fc.constantFrom(...properties))
          .chain(([value, [name, property]]) =>
            nearMissOf(asSchema(property), name).map((bad) => ({ ...asObject(value), [name]: bad })),
          ),
      );
    }
    // A required property dropped.
    for (const name of schema.required ?? []) {
      options.push(
        base.map((value) => {
          const { [name]: _dropped, ...rest } = asObject(value);
          return rest;
        }),
      );
    }
    // Extra keys, prototype pollution attempts among them.
    options.push(
      fc
        .tuple(
          base,
          fc.dictionary(
            fc.constantFrom("__proto__", "constructor", "prototype", "userId", "id", "role", "status", "isAdmin"),
            junkJson,
            { minKeys: 1, maxKeys: 3 },
          ),
        )
        .map(([value, extra]) => ({ ...asObject(value), ...extra })),
    );
    options.push(base.map((value) => [value]));
  }
  return fc.oneof(...options);
}

const asObject = (value: Json): Record<string, Json> =>
  value && typeof value === "object" && !Array.isArray(value) ? value : {};

/** A raw request body with its Content-Type, JSON or not. */
export type RawBody = { contentType: string | null; body: string | Uint8Array | null; parsedJson: boolean };

const JSON_TYPES = [
  "application/json",
  "application/json; charset=utf-8",
  "application/problem+json",
  "APPLICATION/JSON",
];

/** Bodies for a JSON endpoint: mostly near misses of the schema, some valid, plenty of junk. */
export function bodiesFor(schema: JsonSchema, options: { validWeight?: number } = {}): fc.Arbitrary<RawBody> {
  const json = (value: fc.Arbitrary<Json>) =>
    fc
      .tuple(value, fc.constantFrom(...JSON_TYPES))
      .map(([body, contentType]): RawBody => ({ contentType, body: JSON.stringify(body), parsedJson: true }));
  return fc.oneof(
    { arbitrary: json(validOf(schema)), weight: options.validWeight ?? 1 },
    { arbitrary: json(nearMissOf(schema)), weight: 5 },
    { arbitrary: json(junkJson), weight: 3 },
    {
      arbitrary: fc.oneof(
        fc.constantFrom<RawBody>(
          { contentType: "application/json", body: "", parsedJson: false },
          { contentType: "application/json", body: "{", parsedJson: false },
          { contentType: "application/json", body: '{"email":', parsedJson: false },
          { contentType: "application/json", body: "\uFEFF{}", parsedJson: false },
          { contentType: "application/json", body: "{'a':1}", parsedJson: false },
          { contentType: "application/json", body: "[1,]", parsedJson: false },
          { contentType: "application/json", body: "NaN", parsedJson: false },
          { contentType: "application/json", body: null, parsedJson: false },
          { contentType: null, body: "{}", parsedJson: false },
          { contentType: "text/plain", body: '{"title":"x"}', parsedJson: false },
          {
            contentType: "application/x-www-form-urlencoded",
            body: "email=a%40b.co&password=12345678",
            parsedJson: false,
          },
          {
            contentType: "multipart/form-data; boundary=x",
            body: '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb\r\n--x--',
            parsedJson: false,
          },
          { contentType: "application/json; charset=utf-16", body: "{}", parsedJson: false },
          {
            contentType: "application/json",
            body: new Uint8Array([0xff, 0xfe, 0x00, 0x7b, 0x00, 0x7d]),
            parsedJson: false,
          },
          {
            contentType: "application/json",
            body: new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]),
            parsedJson: false,
          },
        ),
        fc
          .tuple(
            fc.constantFrom(...JSON_TYPES, "text/plain", "application/octet-stream"),
            fc.string({ unit: "binary", maxLength: 200 }),
          )
          .map(([contentType, body]): RawBody => ({ contentType, body, parsedJson: false })),
        fc
          .uint8Array({ maxLength: 256 })
          .map((body): RawBody => ({ contentType: "application/json", body, parsedJson: false })),
      ),
      weight: 2,
    },
  );
}

/** Query strings for a list endpoint: near misses of its schema, repeated keys, encodings, junk. */
export function queriesFor(schema: JsonSchema, extra: Record<string, fc.Arbitrary<string>> = {}): fc.Arbitrary<string> {
  const properties = Object.entries(schema.properties ?? {});
  const value = (name: string, property: JsonSchema): fc.Arbitrary<string> =>
    fc.oneof(
      validOf(property, name).map(String),
      nearMissOf(property, name).map((v) => (typeof v === "string" ? v : JSON.stringify(v))),
      junkString,
      ...(extra[name] ? [extra[name]] : []),
    );
  const pair = fc.oneof(
    {
      arbitrary: fc
        .constantFrom(...properties)
        .chain(([name, property]) => value(name, asSchema(property)).map((v) => [name, v] as const)),
      weight: 5,
    },
    { arbitrary: fc.tuple(junkString, junkString), weight: 1 },
  );
  const encoded = fc
    .array(pair, { maxLength: 6 })
    .map((pairs) =>
      pairs.map(([k, v]) => `${encodeURIComponent(wellFormed(k))}=${encodeURIComponent(wellFormed(v))}`).join("&"),
    );
  // Hand-broken encodings that `encodeURIComponent` would never produce.
  const raw = fc.constantFrom(
    "limit=%",
    "limit=%zz",
    "q=%C3%28",
    "q=%00",
    "limit",
    "=&=&",
    "cursor=%FF%FE",
    `q=${"%41".repeat(2000)}`,
    "sort[]=updated",
    "limit=1&limit=2",
  );
  return fc.oneof({ arbitrary: encoded, weight: 6 }, { arbitrary: raw, weight: 1 });
}

/** URLs carry UTF-8: lone surrogates become U+FFFD, as a browser would send them. */
const wellFormed = (text: string): string =>
  text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, "\uFFFD");

/** A cursor that decodes to JSON of our shape, with the numbers that break SQL bindings. */
export const hostileCursor: fc.Arbitrary<string> = fc
  .tuple(
    fc.constantFrom("1e999", "-1e999", "1e308", "-0", "0", "9007199254740993", "1.5", '"1"', "null", "[]"),
    fc.oneof(junkString, fc.constant("zzzz")),
  )
  .map(([number, id]) => {
    const text = `[${number},${JSON.stringify(id)}]`;
    const bytes = new TextEncoder().encode(text);
    let binary = "";
    for (const byte of bytes) binary += String.fromCharCode(byte);
    return btoa(binary).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
  });
