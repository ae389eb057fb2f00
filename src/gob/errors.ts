// The two gob error codes. GOB_INVALID: the stream is malformed (or hostile); the decoder that
// met it is unusable afterwards. GOB_TYPE: a value does not fit its declared Go type (a JS value
// given to the encoder, or a wire value or type read with a schema); the stream stays usable.
import { PluginError } from "../errors/plugin-error.ts";

/** A malformed gob stream. */
export function gobInvalid(message: string, details?: Record<string, unknown>): PluginError {
  return new PluginError("GOB_INVALID", `malformed gob stream: ${message}`, { details });
}

/** A value that does not fit its Go type; `path` names the field (`Manifest.Tags[2]`). */
export function gobTypeError(path: string, message: string): PluginError {
  return new PluginError("GOB_TYPE", `${path} ${message}`, { details: { path } });
}
