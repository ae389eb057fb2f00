import type { PluginError } from "../../errors/plugin-error.ts";
import type { GobTypeRegistry, GoType } from "../../gob/index.ts";
import type { NetRpcContext } from "./define.ts";

/** A method as the server runs it. */
export interface NetRpcRoute {
  readonly argsType: GoType<unknown>;
  readonly replyType: GoType<unknown>;
  readonly handler: (args: unknown, context: NetRpcContext) => unknown;
}

/** What every connection of a server shares: its services, limits and error hook. */
export interface NetRpcServerShared {
  readonly services: ReadonlyMap<string, ReadonlyMap<string, NetRpcRoute>>;
  readonly maxMessageBytes: number;
  readonly maxConcurrentCalls: number;
  readonly registry: GobTypeRegistry | undefined;
  readonly onError: ((error: PluginError, serviceMethod: string | undefined) => void) | undefined;
}
