// plugwire's gob against Go's, both ways, on the corpus of interop/go/cmd/gob-corpus: Go's bytes
// decode (with and without a schema) to the case's values; our encoder writes Go's bytes exactly
// (every case but the one with several map entries, whose order Go randomizes); and Go's decoder
// reads what we write back as the same values.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { goBinary } from "../../test/support/interop.ts";
import type { CorpusCase } from "./corpus-cases.test.ts";
import { corpusCases, corpusRegistrations } from "./corpus-cases.test.ts";
import { GobDecoder } from "./decoder.ts";
import { GobEncoder } from "./encoder.ts";
import { GoTime } from "./time.ts";
import { GobTypeRegistry } from "./type-registry.ts";
import type { GoType } from "./types.ts";

const run = promisify(execFile);

interface Described {
  name: string;
  file: string;
  bytes: number;
  values: number;
  deterministic: boolean;
  kinds: string[];
}

function registry(): GobTypeRegistry {
  const r = new GobTypeRegistry();
  for (const [name, type] of corpusRegistrations) r.register(name, type);
  return r;
}

/** `bytes` cut at a few places, so values straddle pushes. */
function pieces(bytes: Uint8Array, seed: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  let at = 0;
  let step = 1 + (seed % 7);
  while (at < bytes.length) {
    out.push(bytes.slice(at, at + step));
    at += step;
    step = step * 3 + 1;
  }
  return out;
}

function decodeAll(bytes: Uint8Array, c: CorpusCase, typed: boolean): unknown[] {
  const decoder = new GobDecoder({ registry: registry() });
  const values: unknown[] = [];
  const wanted = [...c.values];
  for (const piece of pieces(bytes, c.name.length)) {
    decoder.push(piece);
    for (;;) {
      const next = wanted[values.length];
      if (next === undefined) break;
      const got = typed ? decoder.next(next.type) : decoder.next();
      if (got === undefined) break;
      values.push(got.value);
    }
  }
  assert.equal(decoder.next(), undefined, "nothing after the case's values");
  assert.equal(decoder.bufferedBytes, 0);
  return values;
}

function encodeAll(c: CorpusCase): Uint8Array {
  const encoder = new GobEncoder({ registry: registry() });
  return Buffer.concat(
    c.values.map((v) => encoder.encode(v.type, "input" in v ? v.input : v.value)),
  );
}

const intKinds = new Set([
  "int",
  "int8",
  "int16",
  "int32",
  "int64",
  "uint",
  "uint8",
  "uint16",
  "uint32",
  "uint64",
  "uintptr",
]);

/** The value as the schema-less decoder gives it (docs/gob.md's mapping). */
function plain(type: GoType, value: unknown, names: GobTypeRegistry): unknown {
  if (intKinds.has(type.kind)) {
    const n = value as number | bigint;
    return typeof n === "bigint" && n >= -(2n ** 53n) + 1n && n <= 2n ** 53n - 1n ? Number(n) : n;
  }
  switch (type.kind) {
    case "ptr":
      return value === null ? zeroPlain(type.elem) : plain(type.elem, value, names);
    case "struct": {
      const record = value as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (const f of type.fields)
        out[f.name] = omitted(f.type, record[f.name])
          ? zeroPlain(f.type)
          : plain(f.type, record[f.name], names);
      return out;
    }
    case "slice":
      return (value as unknown[]).map((e) => plain(type.elem, e, names));
    case "array":
      return Array.from(value as ArrayLike<unknown>, (e) => plain(type.elem, e, names));
    case "map":
      return new Map(
        [...((value ?? new Map()) as Map<unknown, unknown>)].map(([k, e]) => [
          plain(type.key, k, names),
          plain(type.elem, e, names),
        ]),
      );
    case "interface": {
      const iv = value as { name: string; value: unknown } | null;
      return iv === null
        ? null
        : { name: iv.name, value: plain(names.lookup(iv.name)!, iv.value, names) };
    }
    case "opaque":
      return value instanceof GoTime ? value : type.codec.encode(value, "value");
    default:
      return value;
  }
}

function zeroPlain(type: GoType): unknown {
  if (type.kind === "ptr") return zeroPlain(type.elem);
  if (intKinds.has(type.kind) || type.kind.startsWith("float")) return 0;
  switch (type.kind) {
    case "bool":
      return false;
    case "string":
      return "";
    case "bytes":
      return new Uint8Array(0);
    case "complex64":
    case "complex128":
      return { real: 0, imag: 0 };
    case "slice":
      return [];
    case "map":
      return new Map();
    default:
      return null;
  }
}

function omitted(type: GoType, value: unknown): boolean {
  switch (type.kind) {
    case "ptr":
      return value === null || omitted(type.elem, value);
    case "struct":
    case "array":
      return false;
    case "map":
    case "interface":
      return value === null;
    case "opaque":
      return type.codec.isZero(value);
    case "complex64":
    case "complex128":
      return (value as { real: number }).real === 0 && (value as { imag: number }).imag === 0;
    case "string":
    case "bytes":
    case "slice":
      return (value as { length: number }).length === 0;
    default:
      return value === false || value === 0 || value === 0n;
  }
}

describe("gob against Go's encoding/gob (interop/go/cmd/gob-corpus)", () => {
  let dir: string;
  let described: Described[];
  const goBytes = new Map<string, Uint8Array>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "plugwire-gob-"));
    await run(goBinary("gob-corpus"), ["write", dir]);
    described = JSON.parse(readFileSync(join(dir, "corpus.json"), "utf8")) as Described[];
    for (const d of described) goBytes.set(d.name, new Uint8Array(readFileSync(join(dir, d.file))));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("declares every case Go writes, with as many values", () => {
    assert.deepEqual(
      described.map((d) => [d.name, d.values]),
      corpusCases.map((c) => [c.name, c.values.length]),
    );
  });

  for (const c of corpusCases) {
    describe(c.name, () => {
      it("Go's bytes decode with the schema to the case's values", () => {
        assert.deepStrictEqual(
          decodeAll(goBytes.get(c.name)!, c, true),
          c.values.map((v) => v.value),
        );
      });

      it("Go's bytes decode without a schema to the plain mapping", () => {
        const names = registry();
        assert.deepStrictEqual(
          decodeAll(goBytes.get(c.name)!, c, false),
          c.values.map((v) => plain(v.type, v.value, names)),
        );
      });

      it("our encoder writes Go's bytes (where Go's are deterministic)", (t) => {
        const ours = encodeAll(c);
        writeFileSync(join(dir, `${c.name}.ts.gob`), ours);
        const d = described.find((x) => x.name === c.name)!;
        if (!d.deterministic) {
          t.diagnostic("Go writes map entries in random order: checked by Go's decoder below");
          assert.equal(ours.length, goBytes.get(c.name)!.length);
          return;
        }
        assert.equal(
          Buffer.from(ours).toString("hex"),
          Buffer.from(goBytes.get(c.name)!).toString("hex"),
        );
      });
    });
  }

  it("Go's decoder reads every stream we wrote as the case's values", async () => {
    const { stdout } = await run(goBinary("gob-corpus"), ["check", dir]);
    const report = JSON.parse(stdout) as Array<{
      name: string;
      ok: boolean;
      problems: string[] | null;
    }>;
    assert.deepEqual(
      report.filter((r) => !r.ok),
      [],
    );
    assert.deepEqual(
      report.map((r) => r.name),
      corpusCases.map((c) => c.name),
    );
  });
});
