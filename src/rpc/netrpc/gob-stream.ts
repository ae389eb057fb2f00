import { PluginError } from "../../errors/plugin-error.ts";
import type { GobTypeRegistry, GoType } from "../../gob/index.ts";
import { GobDecoder, GobEncoder } from "../../gob/index.ts";

/**
 * The two halves of a net/rpc connection's gob streams. Each direction is one gob stream for the
 * life of the connection (type definitions are sent once, then referred to), and every message
 * is a header followed by a body.
 */

/**
 * The outgoing stream: encodes a header and its body into one piece of bytes, written with one
 * `write`, so two messages' bytes never interleave however many calls are in flight. The bytes
 * are Go's own for the same calls (header first, type ids in the order Go allocates them).
 */
export class MessageWriter {
  readonly #encoder: GobEncoder;
  readonly #registry: GobTypeRegistry | undefined;
  /** Whether the header's type definition is out: from then on a header adds no definitions. */
  #headerDefined = false;

  constructor(registry?: GobTypeRegistry) {
    this.#registry = registry;
    this.#encoder = new GobEncoder({ registry });
  }

  /**
   * The bytes of `header` then `body`. A body that does not fit its type is GOB_TYPE, and then
   * nothing counts as sent. Each encode is all or nothing, but the header goes first; so until the
   * header's definition is out (the first message), the body is tried on a scratch encoder first:
   * a header definition marked sent but never written would break the stream.
   */
  encode<H, B>(headerType: GoType<H>, header: H, bodyType: GoType<B>, body: B): Uint8Array {
    if (!this.#headerDefined) new GobEncoder({ registry: this.#registry }).encode(bodyType, body);
    const headerBytes = this.#encoder.encode(headerType, header);
    const bodyBytes = this.#encoder.encode(bodyType, body);
    this.#headerDefined = true;
    // A Buffer, so the stream takes it as it is (a plain Uint8Array is wrapped on every write).
    const out = Buffer.allocUnsafe(headerBytes.byteLength + bodyBytes.byteLength);
    out.set(headerBytes, 0);
    out.set(bodyBytes, headerBytes.byteLength);
    return out;
  }
}

/** A body as read: its value, or why it did not fit the type it was read as (the stream is fine). */
export type ReadBody = { readonly value: unknown } | { readonly error: PluginError };

/** What a `MessageReader` asks its owner. */
export interface MessageReaderHandlers<H> {
  /** The type to read the body after `header` as; undefined reads it as gob describes it. */
  bodyType(header: H): GoType<unknown> | undefined;
  /** A header and its body arrived. */
  message(header: H, body: ReadBody): void;
}

/** Options of the incoming stream. */
export interface MessageReaderOptions {
  /** Largest gob message accepted; a longer one is GOB_INVALID. */
  maxMessageBytes: number;
  /** Concrete types of interface values, by name (Go's `gob.Register`). */
  registry: GobTypeRegistry | undefined;
}

/**
 * The incoming stream: bytes in, header and body pairs out. A body that does not fit its type is
 * reported with the pair (gob has read the whole message, so the stream stays in sync, as Go's
 * decoder does); a malformed stream throws GOB_INVALID from `push`, after which the connection is
 * unusable.
 */
export class MessageReader<H> {
  readonly #decoder: GobDecoder;
  readonly #headerType: GoType<H>;
  readonly #handlers: MessageReaderHandlers<H>;
  #header: { readonly value: H } | undefined;

  constructor(
    headerType: GoType<H>,
    handlers: MessageReaderHandlers<H>,
    options: MessageReaderOptions,
  ) {
    this.#decoder = new GobDecoder(options);
    this.#headerType = headerType;
    this.#handlers = handlers;
  }

  push(chunk: Uint8Array): void {
    this.#decoder.push(chunk);
    for (;;) {
      if (this.#header === undefined) {
        const header = this.#decoder.next(this.#headerType);
        if (header === undefined) return;
        this.#header = { value: header.value as H };
      }
      const header = this.#header.value;
      let body: ReadBody;
      try {
        const read = this.#decoder.next(this.#handlers.bodyType(header));
        if (read === undefined) return;
        body = { value: read.value };
      } catch (error) {
        if (!(error instanceof PluginError) || error.code !== "GOB_TYPE") throw error;
        body = { error };
      }
      this.#header = undefined;
      this.#handlers.message(header, body);
    }
  }
}
