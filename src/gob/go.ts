// `go`: the schema builders, with the typed opaque types Go plugin interfaces carry most.
import { bigIntCodec } from "./big-int.ts";
import type { GoTime } from "./time.ts";
import { timeCodec } from "./time.ts";
import type { GoType } from "./types.ts";
import { builders } from "./types.ts";

/** Go's time.Time, as a GoTime (a GobEncoder on the wire). */
const time: GoType<GoTime> = builders.opaque("time.Time", "gob", timeCodec);

/** Go's math/big.Int, as a bigint; a `*big.Int` field is `go.ptr(go.bigInt)`. */
const bigInt: GoType<bigint> = builders.opaque("big.Int", "gob", bigIntCodec);

/**
 * The schema builders: `go.struct("main.Manifest", { Name: go.string, Tags: go.slice(go.string) })`.
 * `GoValue<typeof Manifest>` is the JS type of its values. See docs/gob.md for the mapping.
 */
export const go = { ...builders, time, bigInt };
