// A Reva-style host: one configuration, user providers on both of go-plugin's protocols, each
// answered through its typed client. The gRPC driver is dispensed by its service descriptor, the
// net/rpc drivers by their Go interface; the host code reads the same for both.
//   node examples/netrpc/reva/host.ts
import { fileURLToPath } from "node:url";
import { ServiceManager } from "plugwire/manager";
import { UserProvider as GrpcUserProvider } from "../../manager/users/gen/users_pb.js";
import { netrpcPlugins, UserProvider } from "./user-provider.ts";

const config = fileURLToPath(new URL("./plugwire.toml", import.meta.url));
await using manager = await ServiceManager.load(config, {
  netrpc: netrpcPlugins,
  onProgress: (message) => console.error(`… ${message}`),
});

const grpc = manager.service("users-grpc", GrpcUserProvider);
const marie = await grpc.getUser({ username: "marie" });
const { users } = await grpc.findUsers({ query: "example.org" });
console.log(
  `users-grpc (grpc)   ${marie.displayName} <${marie.mail}>; example.org: ${users.length} users`,
);

for (const name of ["users-go", "users-ts"]) {
  const provider = manager.service(name, UserProvider);
  const Ctx = new Map([["request-id", `req-${name}`]]);
  const UID = { Idp: "example.org", OpaqueId: "marie" };
  const { User: user } = await provider.GetUser({ Ctx, UID, SkipFetchingGroups: false });
  const { User: byMail } = await provider.GetUserByClaim({
    Ctx,
    Claim: "mail",
    Value: "richard@example.org",
    SkipFetchingGroups: true,
  });
  const { Groups } = await provider.GetUserGroups({ Ctx, UID });
  const { Users } = await provider.FindUsers({
    Ctx,
    Query: "example.org",
    SkipFetchingGroups: true,
  });
  const protocol = manager.plugin(name).manifest.protocol;
  console.log(
    `${name} (${protocol}) ${user?.DisplayName} <${user?.Mail}>; mail richard@example.org: ${byMail?.Username}; groups ${Groups.join(",")}; example.org: ${Users.length} users`,
  );
}
