// A Reva user provider driver in TypeScript on go-plugin's net/rpc protocol: the JSON driver of
// the seed, reading the users file its settings name (`users`, relative to the host's config
// folder, where the manager runs drivers). A Go host runs it as it runs a Go driver.
import { readFileSync } from "node:fs";
import type { GoValue } from "plugwire";
import { driverSettings } from "plugwire/manager";
import { createPluginLogger, netrpcPlugin, serve } from "plugwire/plugin";
import { handshake, pluginName, type User, UserProvider } from "../user-provider.ts";

interface UserRecord {
  username: string;
  display_name: string;
  mail: string;
  groups: string[];
}

const logger = createPluginLogger({ name: "users-json-ts" });
const file = String(driverSettings().users ?? "");
if (file === "") throw new Error("setting `users` (the users JSON file) is required");
const records = JSON.parse(readFileSync(file, "utf8")) as UserRecord[];
const idp = "example.org";

function user(r: UserRecord, skipGroups: boolean): GoValue<typeof User> {
  return {
    Id: { Idp: idp, OpaqueId: r.username },
    Username: r.username,
    Mail: r.mail,
    DisplayName: r.display_name,
    Groups: skipGroups ? [] : r.groups,
  };
}

function find(match: (r: UserRecord) => boolean, what: string): UserRecord {
  const found = records.find(match);
  // Go's errors are plain text; the Go driver answers the same words.
  if (found === undefined) throw new Error(`error: not found: user ${what}`);
  return found;
}

const claims: Record<string, (r: UserRecord) => string> = {
  mail: (r) => r.mail,
  username: (r) => r.username,
};

await serve({
  handshake,
  plugins: {
    [pluginName]: netrpcPlugin(UserProvider, {
      GetUser({ Ctx, UID, SkipFetchingGroups }) {
        logger.debug("GetUser", { "request-id": Ctx.get("request-id") });
        const id = UID?.OpaqueId ?? "";
        return {
          User: user(
            find((r) => r.username === id, id),
            SkipFetchingGroups,
          ),
        };
      },
      GetUserByClaim({ Claim, Value, SkipFetchingGroups }) {
        const of = claims[Claim];
        const r = find((r) => of?.(r) === Value, `with ${Claim} ${Value}`);
        return { User: user(r, SkipFetchingGroups) };
      },
      GetUserGroups({ UID }) {
        const id = UID?.OpaqueId ?? "";
        return { Groups: find((r) => r.username === id, id).groups };
      },
      FindUsers({ Query, SkipFetchingGroups }) {
        const q = Query.toLowerCase();
        const match = (r: UserRecord) =>
          `${r.username} ${r.display_name} ${r.mail}`.toLowerCase().includes(q);
        return { Users: records.filter(match).map((r) => user(r, SkipFetchingGroups)) };
      },
    }),
  },
});
