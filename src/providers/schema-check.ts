import { PluginError } from "../errors/plugin-error.ts";

/**
 * The small part of JSON Schema worth checking before a provider runs: the top-level `type`,
 * `required` properties, and the `type` of each declared property. Anything deeper is the
 * provider's job. Throws INVALID_ARGUMENT naming the field.
 */
export function checkInput(
  schema: Record<string, unknown>,
  input: unknown,
  provider: string,
): void {
  const fail = (what: string): never => {
    throw new PluginError("INVALID_ARGUMENT", `invalid input for provider ${provider}: ${what}`);
  };
  if (typeof schema.type === "string" && !isType(input, schema.type))
    fail(`expected ${schema.type}, got ${typeName(input)}`);
  if (typeof input !== "object" || input === null || Array.isArray(input)) return;
  const record = input as Record<string, unknown>;
  if (Array.isArray(schema.required)) {
    for (const key of schema.required)
      if (typeof key === "string" && !(key in record)) fail(`missing required property \`${key}\``);
  }
  const properties = schema.properties as Record<string, Record<string, unknown>> | undefined;
  for (const [key, sub] of Object.entries(properties ?? {})) {
    if (!(key in record) || typeof sub?.type !== "string") continue;
    if (!isType(record[key], sub.type))
      fail(`property \`${key}\` must be ${sub.type}, got ${typeName(record[key])}`);
  }
}

function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}

function isType(value: unknown, type: string): boolean {
  switch (type) {
    case "integer":
      return Number.isInteger(value);
    case "number":
      return typeof value === "number";
    case "object":
      return typeName(value) === "object";
    default:
      return typeName(value) === type;
  }
}
