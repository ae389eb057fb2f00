// The user provider interface of Reva's runtime plugins (the seed; interop/go/cmd/reva-userprovider
// is the Go side), declared once for TypeScript hosts and drivers. In Go:
//   GetUser(ctx, *UserId, skipFetchingGroups bool) (*User, error)
//   GetUserByClaim(ctx, claim, value string, skipFetchingGroups bool) (*User, error)
//   GetUserGroups(ctx, *UserId) ([]string, error)
//   FindUsers(ctx, query string, skipFetchingGroups bool) ([]*User, error)
// and on the wire one argument struct and one reply struct per method, the context carried as a
// map (a context.Context cannot cross net/rpc).
import { gob, netrpc } from "plugwire/rpc";

const { go } = gob;

/** Reva's handshake (its pkg/plugin). */
export const handshake = {
  magicCookieKey: "BASIC_PLUGIN",
  magicCookieValue: "reva",
  protocolVersion: 1,
};

/** The name Reva serves user provider drivers under. */
export const pluginName = "userprovider";

export const UserId = go.struct("main.UserId", { Idp: go.string, OpaqueId: go.string });

export const User = go.struct("main.User", {
  Id: go.ptr(UserId),
  Username: go.string,
  Mail: go.string,
  DisplayName: go.string,
  Groups: go.slice(go.string),
});

/** What a call's context says (the request id), as the Go RPCClient sends it. */
const Ctx = go.named("main.Ctx", go.map(go.string, go.string));

export const UserProvider = netrpc.define({
  GetUser: {
    args: go.struct("main.GetUserArg", {
      Ctx,
      UID: go.ptr(UserId),
      SkipFetchingGroups: go.bool,
    }),
    reply: go.struct("main.GetUserReply", { User: go.ptr(User) }),
  },
  GetUserByClaim: {
    args: go.struct("main.GetUserByClaimArg", {
      Ctx,
      Claim: go.string,
      Value: go.string,
      SkipFetchingGroups: go.bool,
    }),
    reply: go.struct("main.GetUserByClaimReply", { User: go.ptr(User) }),
  },
  GetUserGroups: {
    args: go.struct("main.GetUserGroupsArg", { Ctx, UID: go.ptr(UserId) }),
    reply: go.struct("main.GetUserGroupsReply", { Groups: go.slice(go.string) }),
  },
  FindUsers: {
    args: go.struct("main.FindUsersArg", {
      Ctx,
      Query: go.string,
      SkipFetchingGroups: go.bool,
    }),
    reply: go.struct("main.FindUsersReply", { Users: go.slice(go.ptr(User)) }),
  },
});

/** The host's plugin map for net/rpc drivers (ServiceManager's `netrpc` option). */
export const netrpcPlugins = { [pluginName]: UserProvider };
