// The two gob error codes. GOB_INVALID: the stream is malformed (or hostile); the decoder that
// met it is unusable afterwards. GOB_TYPE: a value does not fit its declared Go type (a JS value
// given to the encoder, or a wire value or type read with a schema); the stream stays usable.
import { PluginError } from "../errors/plugin-error.ts";

/** A malformed gob stream. */
export function gobInvalid(message: string, details?: Record<string, unknown>): PluginError {
  return new PluginError("GOB_INVALID", `malformed gob stream: ${message}`, { details });
}

/**
 * A value that does not fit its Go type; `path` names the field (`Manifest.Tags[2]`). Raised
 * with the path known where it happens (often "") and completed on the way out by `underPath`,
 * so no path is built unless something fails.
 */
export function gobTypeError(path: string, reason: string): PluginError {
  return new PluginError("GOB_TYPE", `${path} ${reason}`, { details: { path, reason } });
}

/** `error` one level up: `prefix` ("Manifest", ".Tags", "[2]") goes before its path. */
export function underPath(error: unknown, prefix: string): unknown {
  if (!(error instanceof PluginError) || error.code !== "GOB_TYPE") return error;
  const { path, reason } = error.details as { path?: unknown; reason?: unknown };
  if (typeof path !== "string" || typeof reason !== "string") return error;
  return gobTypeError(prefix + path, reason);
}
