import { PluginError } from "../errors/plugin-error.ts";

/** The peer sent GoAway: this side may open no more streams. */
export function goAwayError(): PluginError {
  return new PluginError("UNAVAILABLE", "the yamux peer is not accepting new streams (GoAway)");
}

/** A write or end on a stream that is already finished on the wire. */
export function streamClosedError(id: number): PluginError {
  return new PluginError("UNAVAILABLE", `yamux stream ${id} is closed`);
}
