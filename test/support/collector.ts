import { Writable } from "node:stream";

/** A Writable that keeps what is written to it as text (a plugin's stdout or stderr in tests). */
export function collector(): { stream: Writable; text: () => string } {
  let text = "";
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, text: () => text };
}
