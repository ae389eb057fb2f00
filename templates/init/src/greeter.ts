import type { ServiceImpl } from "plugwire/plugin";
import { PluginError } from "plugwire/plugin";
import type { Greeter } from "./gen/greeter/v1/greeter_pb.js";

/** The plugin's implementation of the Greeter service, kept apart from serve() so tests can call it in process. */
export const greeter: ServiceImpl<typeof Greeter> = {
  async greet({ name }) {
    if (name === "") throw new PluginError("INVALID_ARGUMENT", "name is empty");
    return { greeting: `Hello, ${name}!` };
  },
  async *greetMany({ name, count }, { signal }) {
    for (let i = 1; i <= count && !signal.aborted; i++) yield { greeting: `Hello #${i}, ${name}!` };
  },
};
