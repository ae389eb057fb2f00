// The Reva-style example host: the same user-provider code against every configured driver.
//   node examples/manager/users/host.ts
import { fileURLToPath } from "node:url";
import { ServiceManager } from "plugwire/manager";
import { UserProvider } from "./gen/users_pb.js";
import { jsonUserProvider } from "./json-driver.ts";

const config = fileURLToPath(new URL("./plugwire.toml", import.meta.url));
await using manager = await ServiceManager.load(config, {
  inProcess: { json: (settings, { configDir }) => [jsonUserProvider(settings, configDir)] },
  onProgress: (message) => console.error(`… ${message}`),
});
for (const name of ["userprovider", "userprovider-ts", "userprovider-go"]) {
  const users = manager.service(name, UserProvider);
  const marie = await users.getUser({ username: "marie" });
  const { driver, users: found } = await users.findUsers({ query: "example.org" });
  const transport = manager.plugin(name).connection?.info.transport;
  console.log(
    `${name.padEnd(16)} ${marie.displayName} <${marie.mail}>; example.org: ${found.length} users (driver ${driver}, ${transport})`,
  );
}
