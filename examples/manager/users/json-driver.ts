// The JSON user-provider driver in TypeScript. The same function backs the in-process driver
// and the plugin process (plugin-ts/main.ts): host code cannot tell which one it talks to.
import { readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { implement, PluginError } from "plugwire";
import { UserProvider } from "./gen/users_pb.js";

interface UserRecord {
  username: string;
  display_name: string;
  mail: string;
  groups: string[];
}

/** Builds the driver from its settings: `users` is the path of the users JSON file. */
export function jsonUserProvider(settings: Readonly<Record<string, unknown>>, baseDir = ".") {
  const file = String(settings.users ?? "");
  if (file === "")
    throw new PluginError(
      "CONFIG_INVALID",
      "setting `users` (path of the users JSON file) is required",
    );
  const records = JSON.parse(
    readFileSync(isAbsolute(file) ? file : join(baseDir, file), "utf8"),
  ) as UserRecord[];
  const toUser = (r: UserRecord) => ({
    username: r.username,
    displayName: r.display_name,
    mail: r.mail,
    groups: r.groups,
  });
  return implement(UserProvider, {
    getUser({ username }) {
      const found = records.find((r) => r.username === username);
      if (found === undefined) throw new PluginError("NOT_FOUND", `no user "${username}"`);
      return toUser(found);
    },
    findUsers({ query }) {
      const q = query.toLowerCase();
      const users = records
        .filter((r) => `${r.username} ${r.display_name} ${r.mail}`.toLowerCase().includes(q))
        .map(toUser);
      return { users, driver: "json-ts" };
    },
  });
}
