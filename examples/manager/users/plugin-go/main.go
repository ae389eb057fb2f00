// The JSON user-provider driver as a go-plugin plugin in Go, as Reva's plugins are written.
// plugwire builds it from this folder (go build), or from a git URL, and hands it the driver's
// settings (its TOML table) as JSON in PLUGWIRE_DRIVER_SETTINGS.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"example.com/users-plugin/gen/userspb"
)

type settings struct {
	Users string `json:"users"`
}

type user struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Mail        string   `json:"mail"`
	Groups      []string `json:"groups"`
}

type server struct {
	userspb.UnimplementedUserProviderServer
	users []user
}

func (u user) proto() *userspb.User {
	return &userspb.User{Username: u.Username, DisplayName: u.DisplayName, Mail: u.Mail, Groups: u.Groups}
}

func (s *server) GetUser(_ context.Context, req *userspb.GetUserRequest) (*userspb.User, error) {
	for _, u := range s.users {
		if u.Username == req.Username {
			return u.proto(), nil
		}
	}
	return nil, status.Errorf(codes.NotFound, "no user %q", req.Username)
}

func (s *server) FindUsers(_ context.Context, req *userspb.FindUsersRequest) (*userspb.FindUsersResponse, error) {
	q := strings.ToLower(req.Query)
	out := &userspb.FindUsersResponse{Driver: "json-go"}
	for _, u := range s.users {
		text := strings.ToLower(u.Username + " " + u.DisplayName + " " + u.Mail)
		if strings.Contains(text, q) {
			out.Users = append(out.Users, u.proto())
		}
	}
	return out, nil
}

type usersPlugin struct {
	plugin.NetRPCUnsupportedPlugin
	impl *server
}

func (p *usersPlugin) GRPCServer(_ *plugin.GRPCBroker, s *grpc.Server) error {
	userspb.RegisterUserProviderServer(s, p.impl)
	return nil
}

func (p *usersPlugin) GRPCClient(context.Context, *plugin.GRPCBroker, *grpc.ClientConn) (interface{}, error) {
	return nil, fmt.Errorf("host side not implemented in this example")
}

func load() ([]user, error) {
	var cfg settings
	if raw := os.Getenv("PLUGWIRE_DRIVER_SETTINGS"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
			return nil, fmt.Errorf("PLUGWIRE_DRIVER_SETTINGS: %w", err)
		}
	}
	if cfg.Users == "" {
		return nil, fmt.Errorf("setting `users` (path of the users JSON file) is required")
	}
	data, err := os.ReadFile(cfg.Users)
	if err != nil {
		return nil, err
	}
	var users []user
	return users, json.Unmarshal(data, &users)
}

func main() {
	users, err := load()
	if err != nil {
		fmt.Fprintln(os.Stderr, "users plugin:", err)
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: plugin.HandshakeConfig{ProtocolVersion: 1, MagicCookieKey: "USERS_PLUGIN", MagicCookieValue: "users"},
		Plugins:         map[string]plugin.Plugin{"userprovider": &usersPlugin{impl: &server{users: users}}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
