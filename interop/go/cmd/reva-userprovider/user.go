package main

import (
	"context"
	"net/rpc"

	"github.com/hashicorp/go-plugin"
)

// This file is the user provider's interface library, shaped after Reva's pkg/user (the "Runtime
// Plugins" seed): the Manager interface a driver implements, and go-plugin's net/rpc boilerplate
// for it (ProviderPlugin with RPCServer on the plugin side and RPCClient on the host side). The
// TypeScript declaration of the same types is examples/netrpc/reva/user-provider.ts.

// Handshake is Reva's (pkg/plugin in the seed).
var Handshake = plugin.HandshakeConfig{
	ProtocolVersion:  1,
	MagicCookieKey:   "BASIC_PLUGIN",
	MagicCookieValue: "reva",
}

// PluginName is the name Reva serves user provider drivers under.
const PluginName = "userprovider"

// UserId identifies a user at an identity provider.
type UserId struct {
	Idp      string
	OpaqueId string
}

// User is what the provider answers.
type User struct {
	Id          *UserId
	Username    string
	Mail        string
	DisplayName string
	Groups      []string
}

// Manager is the interface a user provider driver implements.
type Manager interface {
	GetUser(ctx context.Context, uid *UserId, skipFetchingGroups bool) (*User, error)
	GetUserByClaim(ctx context.Context, claim, value string, skipFetchingGroups bool) (*User, error)
	GetUserGroups(ctx context.Context, uid *UserId) ([]string, error)
	FindUsers(ctx context.Context, query string, skipFetchingGroups bool) ([]*User, error)
}

// Ctx carries what a call's context says across the process boundary (a context.Context cannot
// cross net/rpc): here the id of the request that caused the call.
type Ctx map[string]string

const requestIDKey = "request-id"

type ctxKey struct{}

// WithRequestID is how a host tags the context it calls a driver with.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// RequestID is the tag a driver finds on the context it was called with.
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(ctxKey{}).(string)
	return id
}

func toCtx(ctx context.Context) Ctx { return Ctx{requestIDKey: RequestID(ctx)} }

func fromCtx(c Ctx) context.Context {
	return WithRequestID(context.Background(), c[requestIDKey])
}

// The arguments and replies on the wire, one pair per method.
type (
	GetUserArg struct {
		Ctx                Ctx
		UID                *UserId
		SkipFetchingGroups bool
	}
	GetUserReply struct{ User *User }

	GetUserByClaimArg struct {
		Ctx                Ctx
		Claim, Value       string
		SkipFetchingGroups bool
	}
	GetUserByClaimReply struct{ User *User }

	GetUserGroupsArg struct {
		Ctx Ctx
		UID *UserId
	}
	GetUserGroupsReply struct{ Groups []string }

	FindUsersArg struct {
		Ctx                Ctx
		Query              string
		SkipFetchingGroups bool
	}
	FindUsersReply struct{ Users []*User }
)

// ProviderPlugin is the go-plugin plugin of the interface (Reva's user.ProviderPlugin).
type ProviderPlugin struct {
	Impl Manager
}

// Server is the object served as "Plugin" on the dispensed stream.
func (p *ProviderPlugin) Server(*plugin.MuxBroker) (interface{}, error) {
	return &RPCServer{Impl: p.Impl}, nil
}

// Client is what the host gets from Dispense: a Manager that calls the plugin.
func (p *ProviderPlugin) Client(_ *plugin.MuxBroker, c *rpc.Client) (interface{}, error) {
	return &RPCClient{Client: c}, nil
}

// RPCClient is a Manager over net/rpc.
type RPCClient struct{ Client *rpc.Client }

func (m *RPCClient) GetUser(ctx context.Context, uid *UserId, skip bool) (*User, error) {
	var reply GetUserReply
	err := m.Client.Call("Plugin.GetUser", GetUserArg{Ctx: toCtx(ctx), UID: uid, SkipFetchingGroups: skip}, &reply)
	return reply.User, err
}

func (m *RPCClient) GetUserByClaim(ctx context.Context, claim, value string, skip bool) (*User, error) {
	var reply GetUserByClaimReply
	arg := GetUserByClaimArg{Ctx: toCtx(ctx), Claim: claim, Value: value, SkipFetchingGroups: skip}
	err := m.Client.Call("Plugin.GetUserByClaim", arg, &reply)
	return reply.User, err
}

func (m *RPCClient) GetUserGroups(ctx context.Context, uid *UserId) ([]string, error) {
	var reply GetUserGroupsReply
	err := m.Client.Call("Plugin.GetUserGroups", GetUserGroupsArg{Ctx: toCtx(ctx), UID: uid}, &reply)
	return reply.Groups, err
}

func (m *RPCClient) FindUsers(ctx context.Context, query string, skip bool) ([]*User, error) {
	var reply FindUsersReply
	err := m.Client.Call("Plugin.FindUsers", FindUsersArg{Ctx: toCtx(ctx), Query: query, SkipFetchingGroups: skip}, &reply)
	return reply.Users, err
}

// RPCServer serves a Manager over net/rpc.
type RPCServer struct{ Impl Manager }

func (s *RPCServer) GetUser(args GetUserArg, resp *GetUserReply) (err error) {
	resp.User, err = s.Impl.GetUser(fromCtx(args.Ctx), args.UID, args.SkipFetchingGroups)
	return err
}

func (s *RPCServer) GetUserByClaim(args GetUserByClaimArg, resp *GetUserByClaimReply) (err error) {
	resp.User, err = s.Impl.GetUserByClaim(fromCtx(args.Ctx), args.Claim, args.Value, args.SkipFetchingGroups)
	return err
}

func (s *RPCServer) GetUserGroups(args GetUserGroupsArg, resp *GetUserGroupsReply) (err error) {
	resp.Groups, err = s.Impl.GetUserGroups(fromCtx(args.Ctx), args.UID)
	return err
}

func (s *RPCServer) FindUsers(args FindUsersArg, resp *FindUsersReply) (err error) {
	resp.Users, err = s.Impl.FindUsers(fromCtx(args.Ctx), args.Query, args.SkipFetchingGroups)
	return err
}
