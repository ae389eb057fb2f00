// The three gRPC transports compared by bench/transport/run.ts, each as an Echo server and client
// for plugwire.fixture.Fixture/Echo over a unix socket:
//   plugwire  src/rpc (RpcServer, RpcChannel) on node:http2
//   plugwire-h2  the same calls on plugwire's own HTTP/2 framing (src/rpc/h2: H2Listener, H2Channel)
//   grpc-js   @grpc/grpc-js, loaded lazily (only here), with protobuf-es (de)serialisers
//   http2     bare node:http2 with hand-written gRPC framing and no protobuf: the HTTP/2 floor
//   raw       no HTTP/2: [length u32][call id u32][payload] frames over the unix socket, no
//             protobuf; what a plugwire↔plugwire fast path that skips HTTP/2 could approach
//
// Everything is imported lazily, so a process loads only its own transport (load + listen figure).
import { once } from "node:events";
import type { DescService } from "@bufbuild/protobuf";
import type { EchoMessage } from "../../test/fixtures/gen/fixture_pb.js";

export const impls = ["plugwire", "plugwire-h2", "grpc-js", "http2", "raw"] as const;
export type Impl = (typeof impls)[number];

export type Echo = (payload: Uint8Array) => Promise<Uint8Array>;

const echoPath = "/plugwire.fixture.Fixture/Echo";

/** Descriptors and protobuf-es (de)serialisers for plugwire and grpc-js (not the bare floor). */
async function protobuf() {
  const { create, fromBinary, toBinary } = await import("@bufbuild/protobuf");
  const { EchoMessageSchema, Fixture } = await import("../../test/fixtures/gen/fixture_pb.js");
  return {
    Fixture,
    /** Fixture restricted to Echo: every server loads the same descriptors and serves one method. */
    echoOnly: { ...Fixture, methods: [Fixture.method.echo] } as unknown as DescService,
    serialize: (message: EchoMessage) =>
      Buffer.from(toBinary(EchoMessageSchema, create(EchoMessageSchema, message))),
    deserialize: (bytes: Uint8Array) => fromBinary(EchoMessageSchema, bytes),
  };
}

/** Starts an Echo server on `socket`; resolves once it listens. */
export async function listen(impl: Impl, socket: string): Promise<void> {
  switch (impl) {
    case "plugwire": {
      const { createServer } = await import("node:http2");
      const { RpcServer } = await import("../../src/rpc/grpc/server.ts");
      const { echoOnly } = await protobuf();
      const server = createServer({ settings: { initialWindowSize: 4 * 1024 * 1024 } });
      new RpcServer()
        .register({
          service: echoOnly,
          impl: { echo: (request: EchoMessage) => ({ payload: request.payload }) } as never,
        })
        .attach(server);
      server.listen(socket);
      await once(server, "listening");
      return;
    }
    case "plugwire-h2": {
      const { RpcServer } = await import("../../src/rpc/grpc/server.ts");
      const { createH2Listener } = await import("../../src/rpc/h2/listener.ts");
      const { echoOnly } = await protobuf();
      const rpc = new RpcServer().register({
        service: echoOnly,
        impl: { echo: (request: EchoMessage) => ({ payload: request.payload }) } as never,
      });
      const { server } = createH2Listener(rpc, undefined);
      server.listen(socket);
      await once(server, "listening");
      return;
    }
    case "grpc-js": {
      const grpc = await import("@grpc/grpc-js");
      const { serialize, deserialize } = await protobuf();
      const server = new grpc.Server();
      server.addService(
        {
          echo: {
            path: echoPath,
            requestStream: false,
            responseStream: false,
            requestSerialize: serialize,
            requestDeserialize: deserialize,
            responseSerialize: serialize,
            responseDeserialize: deserialize,
          },
        },
        {
          echo: (
            call: { request: EchoMessage },
            callback: (error: null, reply: EchoMessage) => void,
          ) =>
            callback(null, {
              $typeName: "plugwire.fixture.EchoMessage",
              payload: call.request.payload,
            }),
        },
      );
      await new Promise<void>((resolve, reject) =>
        server.bindAsync(`unix:${socket}`, grpc.ServerCredentials.createInsecure(), (error) =>
          error === null ? resolve() : reject(error),
        ),
      );
      return;
    }
    case "http2": {
      const { createServer } = await import("node:http2");
      const server = createServer();
      server.on("stream", (stream) => {
        const chunks: Buffer[] = [];
        stream.on("data", (chunk: Buffer) => chunks.push(chunk));
        stream.on("end", () => {
          stream.respond(
            { ":status": 200, "content-type": "application/grpc" },
            { waitForTrailers: true },
          );
          stream.once("wantTrailers", () => stream.sendTrailers({ "grpc-status": "0" }));
          // The request frame is echoed as the response frame: same bytes, no protobuf.
          stream.end(Buffer.concat(chunks));
        });
      });
      server.listen(socket);
      await once(server, "listening");
      return;
    }
    case "raw": {
      const { createServer } = await import("node:net");
      const server = createServer((conn) => {
        // Every complete frame is echoed as is; frames that arrived together leave together.
        readFrames(conn, (frames) =>
          conn.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames)),
        );
      });
      server.listen(socket);
      await once(server, "listening");
      return;
    }
  }
}

/** Calls `onFrames` with the complete [length][id][payload] frames of each chunk read. */
function readFrames(conn: import("node:net").Socket, onFrames: (frames: Buffer[]) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  conn.on("data", (chunk: Buffer) => {
    let data = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    const frames: Buffer[] = [];
    while (data.length >= 8) {
      const size = 8 + data.readUInt32BE(0);
      if (data.length < size) break;
      frames.push(data.subarray(0, size));
      data = data.subarray(size);
    }
    pending = data;
    if (frames.length > 0) onFrames(frames);
  });
}

/** Connects a client for `impl` and returns its Echo call. */
export async function connect(impl: Impl, socket: string): Promise<Echo> {
  switch (impl) {
    case "plugwire": {
      const { connect: netConnect } = await import("node:net");
      const { RpcChannel } = await import("../../src/rpc/grpc/channel.ts");
      const { createClient } = await import("../../src/rpc/core/client.ts");
      const { Fixture } = await protobuf();
      const channel = new RpcChannel({ connect: () => netConnect(socket) });
      const client = createClient(Fixture, channel);
      return async (payload) => (await client.echo({ payload })).payload;
    }
    case "plugwire-h2": {
      const { connect: netConnect } = await import("node:net");
      const { H2Channel } = await import("../../src/rpc/h2/client.ts");
      const { createClient } = await import("../../src/rpc/core/client.ts");
      const { Fixture } = await protobuf();
      const client = createClient(Fixture, new H2Channel({ connect: () => netConnect(socket) }));
      return async (payload) => (await client.echo({ payload })).payload;
    }
    case "grpc-js": {
      const grpc = await import("@grpc/grpc-js");
      const { serialize, deserialize } = await protobuf();
      const client = new grpc.Client(`unix:${socket}`, grpc.credentials.createInsecure());
      return (payload) =>
        new Promise((resolve, reject) =>
          client.makeUnaryRequest(
            echoPath,
            serialize,
            deserialize,
            { $typeName: "plugwire.fixture.EchoMessage", payload },
            (error: unknown, reply?: EchoMessage) =>
              error ? reject(error) : resolve(reply!.payload),
          ),
        );
    }
    case "http2": {
      const { connect: h2connect } = await import("node:http2");
      const { connect: netConnect } = await import("node:net");
      const session = h2connect("http://localhost", { createConnection: () => netConnect(socket) });
      return (payload) =>
        new Promise((resolve, reject) => {
          const frame = Buffer.allocUnsafe(5 + payload.byteLength);
          frame[0] = 0;
          frame.writeUInt32BE(payload.byteLength, 1);
          frame.set(payload, 5);
          const stream = session.request({
            ":method": "POST",
            ":path": echoPath,
            "content-type": "application/grpc",
            te: "trailers",
          });
          const chunks: Buffer[] = [];
          stream.on("data", (chunk: Buffer) => chunks.push(chunk));
          stream.on("error", reject);
          stream.on("close", () => resolve(Buffer.concat(chunks).subarray(5)));
          stream.end(frame);
        });
    }
    case "raw": {
      const { connect: netConnect } = await import("node:net");
      const conn = netConnect(socket);
      await once(conn, "connect");
      const waiting = new Map<number, (payload: Uint8Array) => void>();
      let nextId = 0;
      readFrames(conn, (frames) => {
        for (const frame of frames) {
          const id = frame.readUInt32BE(4);
          waiting.get(id)?.(frame.subarray(8));
          waiting.delete(id);
        }
      });
      return (payload) =>
        new Promise((resolve) => {
          const id = nextId++ >>> 0;
          const frame = Buffer.allocUnsafe(8 + payload.byteLength);
          frame.writeUInt32BE(payload.byteLength, 0);
          frame.writeUInt32BE(id, 4);
          frame.set(payload, 8);
          waiting.set(id, resolve);
          conn.write(frame);
        });
    }
  }
}
