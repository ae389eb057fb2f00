// What a Node developer has without plugwire, measured the way the call rows are: Node's own
// `child_process.fork()` IPC (`process.send`, JSON serialization, a 64 B payload and an id per
// message) between two processes, and a `worker_threads` MessagePort as the in-process floor.
//   node bench/ipc.ts fork|port -n CALLS -warmup CALLS -warmup-ms MS -duration-ms MS -concurrency N
// prints one JSON line: { medianUs, p99Us, callsPerSec } (sequential calls, then N in flight).
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { isMainThread, parentPort, Worker, workerData } from "node:worker_threads";
import { latencySummaryUs, msSince } from "./stats.ts";

interface Message {
  readonly id: number;
  readonly payload: string;
}

/** Both transports behind one shape: send a message, get each answer through `onAnswer`. */
interface Peer {
  send(message: Message): void;
  onAnswer(handler: (message: Message) => void): void;
  close(): void;
}

const script = fileURLToPath(import.meta.url);

function forkPeer(): Peer {
  const child = fork(script, ["serve-fork"], { serialization: "json", stdio: "inherit" });
  return {
    send: (message) => child.send(message),
    onAnswer: (handler) => child.on("message", (m) => handler(m as Message)),
    close: () => child.kill(),
  };
}

function portPeer(): Peer {
  const worker = new Worker(script, { workerData: "serve-port" });
  return {
    send: (message) => worker.postMessage(message),
    onAnswer: (handler) => worker.on("message", handler),
    close: () => void worker.terminate(),
  };
}

/** Sequential calls: each waits for its answer. Returns per-call latencies in µs. */
async function sequential(peer: Peer, calls: number, payload: string): Promise<number[]> {
  const samples: number[] = [];
  let resolve: (() => void) | undefined;
  peer.onAnswer(() => resolve?.());
  for (let id = 0; id < calls; id++) {
    const t0 = process.hrtime.bigint();
    await new Promise<void>((r) => {
      resolve = r;
      peer.send({ id, payload });
    });
    samples.push(msSince(t0) * 1000);
  }
  resolve = undefined;
  return samples;
}

/** `concurrency` calls always in flight for `durationMs`; answers are matched by id. */
function throughput(
  peer: Peer,
  concurrency: number,
  durationMs: number,
  payload: string,
): Promise<number> {
  return new Promise((resolve) => {
    let next = 1_000_000;
    let done = 0;
    let inFlight = 0;
    const pending = new Set<number>();
    const t0 = process.hrtime.bigint();
    const send = () => {
      const id = next++;
      pending.add(id);
      inFlight++;
      peer.send({ id, payload });
    };
    peer.onAnswer((message) => {
      if (!pending.delete(message.id)) return;
      inFlight--;
      done++;
      const elapsed = msSince(t0);
      if (elapsed < durationMs) send();
      else if (inFlight === 0) resolve(done / (elapsed / 1000));
    });
    for (let i = 0; i < concurrency; i++) send();
  });
}

async function measure(kind: "fork" | "port"): Promise<void> {
  // Go-style single-dash flags, as goplugin-host and bench/ts-host.ts take them.
  const values: Record<string, string> = {
    n: "2000",
    warmup: "1000",
    "warmup-ms": "0",
    "duration-ms": "500",
    concurrency: "64",
  };
  const argv = process.argv.slice(3);
  for (let i = 0; i < argv.length; i += 2) {
    const name = argv[i]!.replace(/^-+/, "");
    if (!(name in values) || argv[i + 1] === undefined) throw new Error(`bad flag ${argv[i]}`);
    values[name] = argv[i + 1]!;
  }
  const payload = "x".repeat(64);
  const run = async (makePeer: () => Peer, body: (peer: Peer) => Promise<number | number[]>) => {
    const peer = makePeer();
    try {
      await sequential(peer, Number(values.warmup), payload);
      return await body(peer);
    } finally {
      peer.close();
    }
  };
  const makePeer = kind === "fork" ? forkPeer : portPeer;
  // A fresh peer per figure: the throughput run's late answers cannot reach the sequential one.
  const latencies = (await run(makePeer, (p) =>
    sequential(p, Number(values.n), payload),
  )) as number[];
  const callsPerSec = (await run(makePeer, async (p) => {
    const concurrency = Number(values.concurrency);
    // Untimed first, as the plugwire rows' -warmup-ms.
    if (Number(values["warmup-ms"]) > 0)
      await throughput(p, concurrency, Number(values["warmup-ms"]), payload);
    return throughput(p, concurrency, Number(values["duration-ms"]), payload);
  })) as number;
  const { medianUs, p99Us } = latencySummaryUs(latencies);
  process.stdout.write(`${JSON.stringify({ medianUs, p99Us, callsPerSec })}\n`);
}

if (!isMainThread && workerData === "serve-port") {
  parentPort!.on("message", (message: Message) => parentPort!.postMessage(message));
} else if (process.argv[2] === "serve-fork") {
  process.on("message", (message) => process.send!(message as Message));
  process.on("disconnect", () => process.exit(0));
} else if (process.argv[2] === "fork" || process.argv[2] === "port") {
  await measure(process.argv[2]);
} else {
  process.stderr.write(
    "usage: node bench/ipc.ts fork|port [-n N] [-warmup N] [-warmup-ms MS] [-duration-ms MS] [-concurrency N]\n",
  );
  process.exit(2);
}
