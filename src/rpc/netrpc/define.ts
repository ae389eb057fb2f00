import { PluginError } from "../../errors/plugin-error.ts";
import type { GoType } from "../../gob/index.ts";
import type { NetRpcCallOptions } from "./client.ts";

/**
 * A Go interface served over net/rpc, declared once in TypeScript: each method's argument and
 * reply types as gob schemas. The client and the implementation types are derived from it, so a
 * host and a plugin written against the same declaration agree without glue code.
 */

/** One method: Go's `func (t *T) Method(args A, reply *R) error`. */
export interface NetRpcMethod<A = unknown, R = unknown> {
  readonly args: GoType<A>;
  readonly reply: GoType<R>;
}

/** The methods of an interface, by their Go names (exported, so capitalized). */
export type NetRpcMethods = { readonly [name: string]: NetRpcMethod };

/** A declared interface (`netrpc.define`). */
export interface NetRpcInterface<M extends NetRpcMethods = NetRpcMethods> {
  readonly kind: "netrpc-interface";
  readonly methods: M;
}

/** What a method's handler learns about its call. */
export interface NetRpcContext {
  /**
   * Fires when the connection the call came on ends or the server closes. A caller's own
   * cancellation or deadline never reaches here: net/rpc does not carry them.
   */
  readonly signal: AbortSignal;
}

/** The argument type of one declared method. */
export type ArgsOf<T> = T extends NetRpcMethod<infer A, unknown> ? A : never;
/** The reply type of one declared method. */
export type ReplyOf<T> = T extends NetRpcMethod<unknown, infer R> ? R : never;
/** The methods a declared interface has, by Go name. */
export type MethodsOf<I> = I extends NetRpcInterface<infer M> ? M : never;

/** The typed client of an interface (`netrpcClient`): one promise-returning method per Go method. */
export type NetRpcClientOf<I extends NetRpcInterface> = {
  readonly [K in keyof MethodsOf<I>]: (
    args: ArgsOf<MethodsOf<I>[K]>,
    options?: NetRpcCallOptions,
  ) => Promise<ReplyOf<MethodsOf<I>[K]>>;
};

/**
 * An implementation of an interface (`NetRpcServer.register`): one handler per Go method. A
 * handler returns the reply (returning nothing sends the reply type's zero value, as a Go method
 * that leaves `*reply` alone does) or throws: the error's message becomes the Go error text.
 */
export type NetRpcImpl<I extends NetRpcInterface> = {
  readonly [K in keyof MethodsOf<I>]: (
    args: ArgsOf<MethodsOf<I>[K]>,
    context: NetRpcContext,
  ) => ReplyOf<MethodsOf<I>[K]> | undefined | Promise<ReplyOf<MethodsOf<I>[K]> | undefined>;
};

/**
 * Declares a Go interface: `define({ Greet: { args: go.interface, reply: go.string } })`. Method
 * names are the Go names, which net/rpc requires to be exported (capitalized); anything else, or
 * a method without both types, is CONFIG_INVALID.
 */
export function define<const M extends NetRpcMethods>(methods: M): NetRpcInterface<M> {
  for (const [name, method] of Object.entries(methods)) {
    if (!/^\p{Lu}[\p{L}\p{N}_]*$/u.test(name)) {
      throw new PluginError(
        "CONFIG_INVALID",
        `net/rpc method \`${name}\` is not an exported Go name: start it with a capital letter (Go's net/rpc serves only exported methods)`,
      );
    }
    if (
      typeof method !== "object" ||
      method === null ||
      method.args === undefined ||
      method.reply === undefined
    ) {
      throw new PluginError(
        "CONFIG_INVALID",
        `net/rpc method \`${name}\` needs both \`args\` and \`reply\` types (use go.interface for Go's \`interface{}\`)`,
      );
    }
  }
  return { kind: "netrpc-interface", methods: Object.freeze({ ...methods }) };
}

/** The namespace the entry exports: `netrpc.define({ … })` reads as what it declares. */
export const netrpc = { define } as const;
