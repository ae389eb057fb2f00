import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { encodeField, HpackDecoder, HpackError, tableSizeZero } from "./hpack.ts";
import { huffmanDecode, huffmanEncode } from "./huffman.ts";

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

function pairs(fields: string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i < fields.length; i += 2) out.push([fields[i]!, fields[i + 1]!]);
  return out;
}

describe("HPACK", () => {
  it("decodes RFC 7541 C.4: three requests with Huffman strings and a shared dynamic table", () => {
    const decoder = new HpackDecoder();
    const first: string[] = [];
    decoder.decode(hex("8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff"), first);
    assert.deepEqual(pairs(first), [
      [":method", "GET"],
      [":scheme", "http"],
      [":path", "/"],
      [":authority", "www.example.com"],
    ]);
    const second: string[] = [];
    decoder.decode(hex("8286 84be 5886 a8eb 1064 9cbf"), second);
    assert.deepEqual(pairs(second).slice(3), [
      [":authority", "www.example.com"],
      ["cache-control", "no-cache"],
    ]);
    const third: string[] = [];
    decoder.decode(hex("8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"), third);
    assert.deepEqual(pairs(third), [
      [":method", "GET"],
      [":scheme", "https"],
      [":path", "/index.html"],
      [":authority", "www.example.com"],
      ["custom-key", "custom-value"],
    ]);
    assert.equal(decoder.tableLength, 3);
  });

  it("reads its own literals, after the table size update that starts a connection", () => {
    const decoder = new HpackDecoder();
    const block = Buffer.concat([
      tableSizeZero,
      encodeField(":path", "/plugwire.fixture.Fixture/Echo"),
      encodeField("grpc-timeout", "100m"),
      encodeField("x-".padEnd(300, "a"), "v"),
    ]);
    const out: string[] = [];
    decoder.decode(block, out);
    assert.deepEqual(pairs(out), [
      [":path", "/plugwire.fixture.Fixture/Echo"],
      ["grpc-timeout", "100m"],
      ["x-".padEnd(300, "a"), "v"],
    ]);
  });

  it("refuses indexes outside the table, size updates after fields and over the limit", () => {
    const decoder = new HpackDecoder();
    assert.throws(() => decoder.decode(hex("80"), []), HpackError);
    assert.throws(() => decoder.decode(hex("be"), []), HpackError);
    assert.throws(() => decoder.decode(hex("82 20"), []), HpackError);
    assert.throws(() => decoder.decode(hex("3fe21f"), []), HpackError); // 4096 + 1
    assert.throws(() => decoder.decode(hex("0f"), []), HpackError); // integer runs past the end
  });

  it("round-trips every byte through the Huffman code and rejects bad padding and EOS", () => {
    const text = Array.from({ length: 256 }, (_, i) => String.fromCharCode(i)).join("");
    const encoded = huffmanEncode(text);
    assert.equal(huffmanDecode(encoded, 0, encoded.byteLength), text);
    assert.throws(() => huffmanDecode(hex("00"), 0, 1)); // 8 zero bits: not a padding of ones
    assert.throws(() => huffmanDecode(hex("ffffffff"), 0, 4)); // EOS
  });
});
