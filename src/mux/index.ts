export type { FrameHeader } from "./frame.ts";
export {
  decodeHeader,
  encodeHeader,
  Flag,
  FrameType,
  GoAwayCode,
  headerBytes,
  initialStreamWindowBytes,
  yamuxVersion,
} from "./frame.ts";
export { YamuxSession } from "./session.ts";
export type { YamuxRole, YamuxSessionOptions } from "./session-options.ts";
export { YamuxStream } from "./stream.ts";
