import { PluginError } from "../errors/plugin-error.ts";
import type { ConnInfo } from "../gen/plugin/grpc_broker_pb.js";

/** How long received connection info waits to be claimed, and a dial waits for it (go-plugin). */
export const brokerTimeoutMs = 5000;

interface Waiter {
  resolve(info: ConnInfo): void;
  reject(error: PluginError): void;
}

/**
 * Connection info received from the peer, per broker id: one slot each (a second message for an
 * occupied id is dropped, as go-plugin does), expiring after 5 s unless a dial claims it.
 */
export class Mailbox {
  readonly #slots = new Map<number, { info: ConnInfo; timer: NodeJS.Timeout }>();
  readonly #waiters = new Map<number, Waiter>();
  #closed: PluginError | undefined;

  deliver(info: ConnInfo): void {
    const id = info.serviceId;
    const waiter = this.#waiters.get(id);
    if (waiter !== undefined) {
      this.#waiters.delete(id);
      waiter.resolve(info);
      return;
    }
    if (this.#slots.has(id) || this.#closed !== undefined) return;
    const timer = setTimeout(() => this.#slots.delete(id), brokerTimeoutMs);
    timer.unref();
    this.#slots.set(id, { info, timer });
  }

  /** Waits up to `timeoutMs` for the info of `id`. */
  take(id: number, timeoutMs: number, signal?: AbortSignal): Promise<ConnInfo> {
    if (this.#closed !== undefined) return Promise.reject(this.#closed);
    const slot = this.#slots.get(id);
    if (slot !== undefined) {
      clearTimeout(slot.timer);
      this.#slots.delete(id);
      return Promise.resolve(slot.info);
    }
    if (this.#waiters.has(id)) {
      return Promise.reject(
        new PluginError("ALREADY_EXISTS", `broker id ${id} is already being dialed`),
      );
    }
    return new Promise((resolve, reject) => {
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#waiters.delete(id);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new PluginError(
            "DEADLINE_EXCEEDED",
            `timeout waiting for connection info for broker id ${id} (${timeoutMs} ms): nothing serves that id on the other side`,
          ),
        );
      }, timeoutMs);
      const onAbort = () => {
        done();
        reject(new PluginError("CANCELLED", `dial of broker id ${id} was cancelled`));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.set(id, {
        resolve: (info) => {
          done();
          resolve(info);
        },
        reject: (error) => {
          done();
          reject(error);
        },
      });
    });
  }

  /** Fails every pending and future dial with `reason` (the broker stream ended). */
  close(reason: PluginError): void {
    this.#closed ??= reason;
    for (const waiter of [...this.#waiters.values()]) waiter.reject(reason);
    for (const { timer } of this.#slots.values()) clearTimeout(timer);
    this.#slots.clear();
  }
}
