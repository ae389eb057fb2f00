import { PluginError } from "../../errors/plugin-error.ts";
import type { GoType } from "../../gob/index.ts";
import type { CallMessage } from "../../internal/diagnostics.ts";
import { callEndChannel, callStartChannel } from "../../internal/diagnostics.ts";
import { abortError } from "../core/call-context.ts";
import { startDeadlineTimer } from "../core/deadline.ts";
import type { CallOptions } from "../core/types.ts";

/** How a settled call tells its client: forget its sequence number, name the plugin in errors. */
export interface PendingCallOwner {
  done(seq: number): void;
  named(error: PluginError): PluginError;
}

/**
 * One net/rpc call waiting for its answer: it owns the call's deadline timer, its abort listener
 * and its diagnostics, and settles once, whichever comes first. Ending it here (deadline,
 * cancel) tells the server nothing: net/rpc has no way to.
 */
export class PendingCall {
  readonly seq: number;
  readonly serviceMethod: string;
  readonly replyType: GoType<unknown>;
  readonly promise: Promise<unknown>;
  readonly #owner: PendingCallOwner;
  readonly #resolve: (value: unknown) => void;
  readonly #reject: (error: PluginError) => void;
  readonly #signal: AbortSignal | undefined;
  readonly #onAbort = () => this.reject(abortError(this.#signal!));
  #stopTimer: (() => void) | undefined;
  #diagnostics: { readonly message: CallMessage; readonly startedAt: number } | undefined;
  #settled = false;

  constructor(
    seq: number,
    serviceMethod: string,
    replyType: GoType<unknown>,
    options: CallOptions | undefined,
    owner: PendingCallOwner,
  ) {
    this.seq = seq;
    this.serviceMethod = serviceMethod;
    this.replyType = replyType;
    this.#owner = owner;
    const { promise, resolve, reject } = Promise.withResolvers<unknown>();
    this.promise = promise;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#signal = options?.signal;
    this.#signal?.addEventListener("abort", this.#onAbort, { once: true });
    const timeoutMs = options?.timeoutMs;
    if (timeoutMs !== undefined) {
      this.#stopTimer = startDeadlineTimer(timeoutMs, () =>
        this.reject(
          new PluginError(
            "DEADLINE_EXCEEDED",
            `${serviceMethod}: deadline of ${timeoutMs} ms exceeded (the plugin still runs the call: net/rpc cannot cancel it)`,
          ),
        ),
      );
    }
    if (callStartChannel.hasSubscribers) {
      const message: CallMessage = { path: serviceMethod, kind: "unary", wire: "netrpc" };
      this.#diagnostics = { message, startedAt: performance.now() };
      callStartChannel.publish(message);
    }
  }

  resolve(value: unknown): void {
    if (this.#settle(undefined)) this.#resolve(value);
  }

  reject(error: PluginError): void {
    const named = this.#owner.named(error);
    if (this.#settle(named)) this.#reject(named);
  }

  #settle(error: PluginError | undefined): boolean {
    if (this.#settled) return false;
    this.#settled = true;
    this.#owner.done(this.seq);
    this.#stopTimer?.();
    this.#signal?.removeEventListener("abort", this.#onAbort);
    const diagnostics = this.#diagnostics;
    if (diagnostics !== undefined) {
      callEndChannel.publish({
        ...diagnostics.message,
        durationMs: performance.now() - diagnostics.startedAt,
        error,
      } satisfies CallMessage);
    }
    return true;
  }
}
