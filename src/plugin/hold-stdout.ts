// Side effect of importing `plugwire/plugin`: in a process launched by a go-plugin-compatible
// host, stdout is held from here until serve() has printed the handshake line (stdout-guard.ts).
// `node --import plugwire/plugin main.js` runs this before any module of the application.
import { holdStdout } from "./serve/stdout-guard.ts";

holdStdout();
