// The scafctl-style example host: discover every plugin in plugins/, list the providers they
// expose, and call them by name with JSON.
//   node examples/manager/providers/host.ts
import { fileURLToPath } from "node:url";
import { ServiceManager } from "plugwire/manager";

const config = fileURLToPath(new URL("./plugwire.toml", import.meta.url));
await using manager = await ServiceManager.load(config);
const { registry } = manager;
for (const { plugin, provider } of registry.providers())
  console.log(`${plugin.id}/${provider.name}: ${provider.description}`);
console.log(await registry.callProvider("upper", { text: "hello plugins" }));
console.log(await registry.callProvider("slug", { text: "Hello, Plugin World!" }));
console.log(await registry.callProvider("example.math/sum", { numbers: [1, 2, 3.5] }));
