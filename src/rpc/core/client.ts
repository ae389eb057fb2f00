import type { DescService } from "@bufbuild/protobuf";
import type { CallOptions, Channel, Client } from "./types.ts";

/**
 * Builds a typed client for `service` on a channel. Methods are derived from the descriptor, so
 * there is no hand-written glue: `client.get({ key })` is a unary call to `/proto.KV/Get`.
 */
export function createClient<S extends DescService>(service: S, channel: Channel): Client<S> {
  const client: Record<string, unknown> = {};
  for (const method of service.methods) {
    switch (method.methodKind) {
      case "unary":
        client[method.localName] = (request: unknown, options?: CallOptions) =>
          channel.unary(method, request, options);
        break;
      case "server_streaming":
        client[method.localName] = (request: unknown, options?: CallOptions) =>
          channel.serverStream(method, request, options);
        break;
      case "client_streaming":
        client[method.localName] = (requests: AsyncIterable<unknown>, options?: CallOptions) =>
          channel.clientStream(method, requests, options);
        break;
      case "bidi_streaming":
        client[method.localName] = (requests: AsyncIterable<unknown>, options?: CallOptions) =>
          channel.bidiStream(method, requests, options);
        break;
    }
  }
  return client as Client<S>;
}
