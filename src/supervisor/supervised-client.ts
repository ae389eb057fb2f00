import type { DescService } from "@bufbuild/protobuf";
import type { CallOptions, Client } from "../rpc/core/types.ts";
import type { Connection } from "./connection.ts";

/** Waits until the plugin runs (bounded by `waitMs`) and returns its connection. */
export type ReadyFn = (waitMs: number | undefined, signal?: AbortSignal) => Promise<Connection>;

type AnyMethod = (input: unknown, options?: CallOptions) => unknown;

/**
 * A typed client that looks up the plugin's current connection on every call, so it keeps
 * working across restarts. The wait for a (re)starting plugin counts against the call's own
 * `timeoutMs`: the plugin gets what is left.
 */
export function supervisedClient<S extends DescService>(service: S, ready: ReadyFn): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    const name = method.localName;
    const target = async (options: CallOptions | undefined) => {
      const started = Date.now();
      const connection = await ready(options?.timeoutMs, options?.signal);
      const fn = (connection.client(service) as unknown as Record<string, AnyMethod>)[name]!;
      const left =
        options?.timeoutMs === undefined
          ? undefined
          : Math.max(1, options.timeoutMs - (Date.now() - started));
      return { fn, options: options === undefined ? undefined : { ...options, timeoutMs: left } };
    };
    if (method.methodKind === "unary" || method.methodKind === "client_streaming") {
      client[name] = async (input: unknown, options?: CallOptions) => {
        const call = await target(options);
        return call.fn(input, call.options);
      };
    } else {
      client[name] = (input: unknown, options?: CallOptions) =>
        (async function* () {
          const call = await target(options);
          yield* call.fn(input, call.options) as AsyncIterable<unknown>;
        })();
    }
  }
  return client as Client<S>;
}
