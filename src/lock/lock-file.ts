import { randomBytes } from "node:crypto";
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import semver from "semver";
import { parse as parseToml, TomlError } from "smol-toml";
import { PluginError } from "../errors/plugin-error.ts";

/** The lock file's name; it lives next to the configuration (`plugwire.toml`). */
export const lockFileName = "plugwire.lock";

/** The lock format version written in the file (`lock_version`). */
export const lockVersion = 1;

/** What was installed for one plugin, as `plugwire install` recorded it. */
export interface LockEntry {
  /** The service or plugin name (the table key). */
  readonly name: string;
  /** The source as written in the configuration or on the command line. */
  readonly source: string;
  /** The semver range as written; undefined when none was given. */
  readonly constraint?: string | undefined;
  /** The version the source resolved to (registry version, or the tag's semver). */
  readonly version?: string | undefined;
  /** The git commit the ref or tag resolved to. */
  readonly commit?: string | undefined;
  /** The integrity of what was fetched, in its ecosystem's form: `sha512-…` (npm), `h1:…` (Go), `sha256:…` (archives). */
  readonly integrity?: string | undefined;
  /** SHA-256 (lowercase hex) of the artifact that runs: the executable, or the built bundle. */
  readonly sha256: string;
  /** Where that artifact is, relative to the lock file's folder. */
  readonly artifact?: string | undefined;
  /** Fingerprint (`SHA256:…`) of the trusted key whose signature was verified at install. */
  readonly signedBy?: string | undefined;
}

/** A parsed lock file; `plugins` is keyed by entry name. */
export interface Lockfile {
  readonly plugins: Readonly<Record<string, LockEntry>>;
}

/** The fields of an entry in the order they are written. */
const fields: ReadonlyArray<readonly [LockField, string]> = [
  ["source", "source"],
  ["constraint", "constraint"],
  ["version", "version"],
  ["commit", "commit"],
  ["integrity", "integrity"],
  ["sha256", "sha256"],
  ["artifact", "artifact"],
  ["signedBy", "signed_by"],
];
/** A lock entry field, by its TypeScript name. */
export type LockField =
  | "source"
  | "constraint"
  | "version"
  | "commit"
  | "integrity"
  | "sha256"
  | "artifact"
  | "signedBy";

/** The lock file beside a configuration file. */
export function lockFileFor(configFile: string): string {
  return join(dirname(configFile), lockFileName);
}

/** An empty lock. */
export function emptyLock(): Lockfile {
  return { plugins: {} };
}

/** Parses lock file text; anything unexpected is `CONFIG_INVALID` naming the file and entry. */
export function parseLock(text: string, file: string): Lockfile {
  let data: Record<string, unknown>;
  try {
    data = parseToml(text) as Record<string, unknown>;
  } catch (error) {
    const where = error instanceof TomlError ? `:${error.line}:${error.column}` : "";
    throw new PluginError(
      "CONFIG_INVALID",
      `${file}${where}: not a valid lock file: ${(error as Error).message.split("\n")[0]}. Restore it from version control, or delete it and run plugwire install to write it again`,
      { cause: error, details: { file } },
    );
  }
  const fail = (why: string): never => {
    throw new PluginError(
      "CONFIG_INVALID",
      `${file}: ${why}. Restore it from version control, or delete it and run plugwire install to write it again`,
      { details: { file } },
    );
  };
  if (data.lock_version !== lockVersion)
    fail(
      `lock_version is ${JSON.stringify(data.lock_version)}; this plugwire reads ${lockVersion}`,
    );
  for (const key of Object.keys(data))
    if (key !== "lock_version" && key !== "plugins") fail(`unknown key \`${key}\``);
  const plugins: Record<string, LockEntry> = {};
  const table = (data.plugins ?? {}) as Record<string, unknown>;
  for (const [name, raw] of Object.entries(table)) {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw))
      fail(`plugins.${name} is not a table`);
    const t = raw as Record<string, unknown>;
    const entry: Record<string, string> = { name };
    const known = new Set<string>(fields.map(([, key]) => key));
    for (const key of Object.keys(t))
      if (!known.has(key)) fail(`plugins.${name}: unknown key \`${key}\``);
    for (const [field, key] of fields) {
      const value = t[key];
      if (value === undefined) continue;
      if (typeof value !== "string" || value === "")
        fail(`plugins.${name}.${key} must be a non-empty string`);
      entry[field] = value as string;
    }
    if (entry.source === undefined) fail(`plugins.${name} has no source`);
    if (!/^[0-9a-f]{64}$/.test(entry.sha256 ?? ""))
      fail(`plugins.${name}.sha256 must be 64 lowercase hex digits`);
    plugins[name] = entry as unknown as LockEntry;
  }
  return { plugins };
}

/**
 * The lock as text: a header, `lock_version`, then one `[plugins.<name>]` table per entry sorted by
 * name, fields in a fixed order, one per line. The same lock always gives the same bytes, and a
 * change to one plugin is a change to its lines only.
 */
export function formatLock(lock: Lockfile): string {
  const out = [
    "# plugwire.lock: what plugwire install resolved, fetched and verified. Commit it; do not edit it.",
    `lock_version = ${lockVersion}`,
  ];
  for (const name of Object.keys(lock.plugins).sort(compare)) {
    const entry = lock.plugins[name]!;
    out.push("", `[plugins.${tomlKey(name)}]`);
    for (const [field, key] of fields) {
      const value = entry[field];
      if (value !== undefined) out.push(`${key} = ${JSON.stringify(value)}`);
    }
  }
  return `${out.join("\n")}\n`;
}

/** Reads a lock file; a file that does not exist is an empty lock. */
export async function readLock(file: string): Promise<Lockfile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return emptyLock();
    throw new PluginError("CONFIG_INVALID", `cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
      details: { file },
    });
  }
  return parseLock(text, file);
}

/** Writes the lock atomically: a temporary file beside it, then a rename over it. */
export async function writeLock(file: string, lock: Lockfile): Promise<void> {
  const temp = join(dirname(file), `.${lockFileName}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    await writeFile(temp, formatLock(lock), { flag: "wx" });
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

/** One field that differs between two entries. */
export interface FieldChange {
  readonly field: LockField;
  readonly from: string | undefined;
  readonly to: string | undefined;
}

/** How one plugin's entry differs between two locks. */
export interface LockChange {
  readonly name: string;
  readonly kind: "added" | "removed" | "changed";
  /** For `changed`: the fields that differ, in lock order. */
  readonly fields: readonly FieldChange[];
}

/** What changed from `before` to `after`, sorted by plugin name; empty when they are the same. */
export function diffLocks(before: Lockfile, after: Lockfile): LockChange[] {
  const names = new Set([...Object.keys(before.plugins), ...Object.keys(after.plugins)]);
  const changes: LockChange[] = [];
  for (const name of [...names].sort(compare)) {
    const a = before.plugins[name];
    const b = after.plugins[name];
    if (a === undefined) changes.push({ name, kind: "added", fields: [] });
    else if (b === undefined) changes.push({ name, kind: "removed", fields: [] });
    else {
      const differ = fields
        .filter(([field]) => a[field] !== b[field])
        .map(([field]) => ({ field, from: a[field], to: b[field] }));
      if (differ.length > 0) changes.push({ name, kind: "changed", fields: differ });
    }
  }
  return changes;
}

/** One line per change, for `plugwire install` to print (`~ reports version 2.1.3 → 2.2.0`). */
export function formatLockChanges(changes: readonly LockChange[], after: Lockfile): string[] {
  return changes.map((change) => {
    if (change.kind === "removed") return `- ${change.name}`;
    const entry = after.plugins[change.name]!;
    if (change.kind === "added") {
      const at = entry.version ?? entry.commit?.slice(0, 12);
      return `+ ${change.name}${at === undefined ? "" : ` ${at}`} (${entry.source})`;
    }
    const parts = change.fields
      .filter((f) => f.field !== "artifact")
      .map((f) => `${f.field} ${short(f.from)} → ${short(f.to)}`);
    return `~ ${change.name} ${parts.join(", ")}`;
  });
}

/**
 * Writes `next` when it differs from `current` and returns the changes. With `frozen` (CI), a
 * difference is `LOCK_FROZEN` listing it, and the file is left as it is.
 */
export async function updateLock(
  file: string,
  current: Lockfile,
  next: Lockfile,
  options: { readonly frozen?: boolean | undefined } = {},
): Promise<LockChange[]> {
  const changes = diffLocks(current, next);
  if (changes.length === 0) return changes;
  if (options.frozen === true)
    throw new PluginError(
      "LOCK_FROZEN",
      `${file} is frozen but would change:\n  ${formatLockChanges(changes, next).join("\n  ")}\nRun plugwire install without --frozen and commit the new lock, or restore the configuration the lock was written for`,
      { plugin: changes.length === 1 ? changes[0]!.name : undefined, details: { file, changes } },
    );
  await writeLock(file, next);
  return changes;
}

/**
 * The locked entry that still applies to a configured plugin: same source and same constraint.
 * Undefined means the configuration changed (or the plugin is new) and it must be resolved again.
 */
export function lockedEntry(
  lock: Lockfile,
  name: string,
  source: string,
  constraint: string | undefined,
): LockEntry | undefined {
  const entry = lock.plugins[name];
  if (entry === undefined || entry.source !== source || entry.constraint !== constraint)
    return undefined;
  return entry;
}

/** What a source answered for a plugin, to compare with its lock entry. */
export interface ResolvedArtifact {
  readonly version?: string | undefined;
  readonly commit?: string | undefined;
  readonly integrity?: string | undefined;
  readonly sha256?: string | undefined;
}

/**
 * Refuses a resolved artifact that differs from its lock entry: another version (a downgrade or a
 * substitution), another commit (a moved tag), or another integrity or SHA-256 (different bytes
 * under the same name). Fields either side leaves out are not compared. `LOCK_MISMATCH`.
 */
export function checkLockEntry(
  entry: LockEntry,
  resolved: ResolvedArtifact,
  lockFile: string,
): void {
  const keys = ["version", "commit", "integrity", "sha256"] as const;
  for (const key of keys) {
    const locked = entry[key];
    const got = resolved[key];
    if (locked === undefined || got === undefined || locked === got) continue;
    let what = `another ${key}`;
    if (key === "version" && semver.valid(locked) !== null && semver.valid(got) !== null)
      what = semver.lt(got, locked) ? "an older version (a downgrade)" : "another version";
    else if (key === "commit") what = "another commit (the ref or tag moved)";
    else if (key === "integrity" || key === "sha256") what = `different bytes (${key})`;
    throw new PluginError(
      "LOCK_MISMATCH",
      `${entry.source} answered ${what} than ${lockFile} records: ${key} ${got}, locked ${locked}. It was refused. If the change is intended, delete [plugins.${entry.name}] from the lock, run plugwire install again and review the diff`,
      { plugin: entry.name, details: { file: lockFile, key, locked, resolved: got } },
    );
  }
}

function tomlKey(name: string): string {
  return /^[A-Za-z0-9_-]+$/.test(name) ? name : JSON.stringify(name);
}

function short(value: string | undefined): string {
  if (value === undefined) return "(none)";
  return /^[0-9a-f]{40,}$/.test(value) ? value.slice(0, 12) : value;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
