import type { DescService, FileRegistry, MessageInitShape } from "@bufbuild/protobuf";
import { fromBinary } from "@bufbuild/protobuf";
import type { FileDescriptorProto } from "@bufbuild/protobuf/wkt";
import { FileDescriptorProtoSchema } from "@bufbuild/protobuf/wkt";
import { PluginError } from "../../errors/plugin-error.ts";
import type {
  ServerReflectionRequestSchema,
  ServerReflectionResponse,
} from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection } from "../../gen/grpc/reflection/v1/reflection_pb.js";
import { ServerReflection as ServerReflectionAlpha } from "../../gen/grpc/reflection/v1alpha/reflection_pb.js";
import { createClient } from "../core/client.ts";
import { Inbox } from "../core/inbox.ts";
import type { CallOptions, Channel, Client } from "../core/types.ts";
import { fileRegistryOf } from "./file-set.ts";

/** Anything that makes typed clients: a `Channel`, a `PluginClient`, a manager `Connection`. */
export type ClientSource = Channel | { client<S extends DescService>(service: S): Client<S> };

type Request = MessageInitShape<typeof ServerReflectionRequestSchema>["messageRequest"];
type Version = "v1" | "v1alpha";
interface Stream {
  readonly queue: Inbox<unknown>;
  readonly responses: AsyncIterator<ServerReflectionResponse>;
}

/**
 * Asks a server what it serves through gRPC server reflection, on one stream for the life of
 * the client: `grpc.reflection.v1`, falling back to `v1alpha` when the server answers
 * UNIMPLEMENTED. Call `close()` when done (or use `using`).
 */
export class ReflectionClient implements Disposable {
  readonly #source: ClientSource;
  readonly #options: CallOptions;
  #version: Version | undefined;
  #confirmed = false;
  #stream: Stream | undefined;

  /** `options` apply to the reflection stream as a whole (its deadline included). */
  constructor(source: ClientSource, options: CallOptions = {}) {
    this.#source = source;
    this.#options = options;
  }

  /** The protocol version the server answered with, once it answered. */
  get version(): Version | undefined {
    return this.#confirmed ? this.#version : undefined;
  }

  /** Fully qualified names of the services the server serves. */
  async listServices(): Promise<string[]> {
    const response = await this.#ask({ case: "listServices", value: "" });
    if (response.messageResponse.case !== "listServicesResponse")
      throw unexpected(response, "list_services");
    return response.messageResponse.value.service.map((s) => s.name);
  }

  /** The file defining `symbol` (a service, method, message, enum ...), and what it imports. */
  async fileContainingSymbol(symbol: string): Promise<FileDescriptorProto[]> {
    return this.#files({ case: "fileContainingSymbol", value: symbol }, "file_containing_symbol");
  }

  /** A file by name (`grpc/health/v1/health.proto`), and what it imports. */
  async fileByFilename(name: string): Promise<FileDescriptorProto[]> {
    return this.#files({ case: "fileByFilename", value: name }, "file_by_filename");
  }

  /** The file defining extension `number` of message type `containingType`. */
  async fileContainingExtension(
    containingType: string,
    number: number,
  ): Promise<FileDescriptorProto[]> {
    return this.#files(
      { case: "fileContainingExtension", value: { containingType, extensionNumber: number } },
      "file_containing_extension",
    );
  }

  /** The field numbers of the known extensions of message type `typeName`. */
  async allExtensionNumbersOfType(typeName: string): Promise<number[]> {
    const response = await this.#ask({ case: "allExtensionNumbersOfType", value: typeName });
    if (response.messageResponse.case !== "allExtensionNumbersResponse")
      throw unexpected(response, "all_extension_numbers_of_type");
    return response.messageResponse.value.extensionNumber;
  }

  /**
   * A registry holding the files that define `symbols`, with every file they import (asked for
   * by name when the server left one out).
   */
  async resolve(symbols: Iterable<string>): Promise<FileRegistry> {
    const files = new Map<string, FileDescriptorProto>();
    const add = (list: FileDescriptorProto[]) => {
      for (const file of list) if (!files.has(file.name)) files.set(file.name, file);
    };
    for (const symbol of symbols) add(await this.fileContainingSymbol(symbol));
    for (;;) {
      const missing = [...files.values()]
        .flatMap((file) => file.dependency)
        .filter((name) => !files.has(name));
      if (missing.length === 0) break;
      for (const name of new Set(missing)) add(await this.fileByFilename(name));
    }
    try {
      return fileRegistryOf(files.values());
    } catch (error) {
      throw new PluginError(
        "INTERNAL",
        `the server's reflection descriptors do not form a valid set: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Ends the reflection stream. Idempotent. */
  close(): void {
    this.#stream?.queue.end();
    this.#stream = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async #files(request: Request, what: string): Promise<FileDescriptorProto[]> {
    const response = await this.#ask(request);
    if (response.messageResponse.case !== "fileDescriptorResponse")
      throw unexpected(response, what);
    return response.messageResponse.value.fileDescriptorProto.map((bytes) =>
      fromBinary(FileDescriptorProtoSchema, bytes),
    );
  }

  async #ask(request: Request): Promise<ServerReflectionResponse> {
    for (;;) {
      const stream = this.#open();
      stream.queue.push({ messageRequest: request }, 0);
      let next: IteratorResult<ServerReflectionResponse>;
      try {
        next = await stream.responses.next();
      } catch (error) {
        this.close();
        const failure = PluginError.from(error);
        // A server without v1 (older grpc-go) says so on the first request: try v1alpha.
        if (failure.code === "UNIMPLEMENTED" && !this.#confirmed && this.#version === "v1") {
          this.#version = "v1alpha";
          continue;
        }
        throw failure;
      }
      if (next.done === true) {
        this.close();
        throw new PluginError("INTERNAL", "the server ended the reflection stream early");
      }
      this.#confirmed = true;
      const response = next.value;
      if (response.messageResponse.case === "errorResponse") {
        const { errorCode, errorMessage } = response.messageResponse.value;
        throw PluginError.fromStatus(errorCode, errorMessage);
      }
      return response;
    }
  }

  #open(): Stream {
    if (this.#stream !== undefined) return this.#stream;
    this.#version ??= "v1";
    const queue = new Inbox<unknown>();
    // v1alpha's messages are v1's field for field; only the service name differs.
    const service = this.#version === "v1" ? ServerReflection : ServerReflectionAlpha;
    const client = clientFor(this.#source, service) as unknown as Client<typeof ServerReflection>;
    const responses = client
      .serverReflectionInfo(queue as AsyncIterable<never>, this.#options)
      [Symbol.asyncIterator]();
    this.#stream = { queue, responses };
    return this.#stream;
  }
}

function clientFor<S extends DescService>(source: ClientSource, service: S): Client<S> {
  return "bidiStream" in source ? createClient(service, source) : source.client(service);
}

function unexpected(response: ServerReflectionResponse, asked: string): PluginError {
  return new PluginError(
    "INTERNAL",
    `the server answered ${asked} with ${response.messageResponse.case ?? "nothing"}`,
  );
}
