// Command reva-userprovider is a Reva-shaped user provider (the "Runtime Plugins" seed) on
// go-plugin v1.8.0's net/rpc protocol, in both roles:
//
//	reva-userprovider                       the JSON driver, as a plugin (run by a host)
//	reva-userprovider -host -users FILE -- CMD ARGS...
//	                                        a Reva-like host: loads the driver CMD, calls every
//	                                        method, prints one JSON report on stdout
//
// The driver reads its settings as plugwire hands them over, JSON in PLUGWIRE_DRIVER_SETTINGS
// (`users`: the users file, relative to the working directory), and answers from that file.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

type record struct {
	Username    string   `json:"username"`
	DisplayName string   `json:"display_name"`
	Mail        string   `json:"mail"`
	Groups      []string `json:"groups"`
}

// jsonManager is the driver: users from a JSON file.
type jsonManager struct {
	logger  hclog.Logger
	records []record
}

const idp = "example.org"

func (m *jsonManager) user(r record, skipGroups bool) *User {
	u := &User{Id: &UserId{Idp: idp, OpaqueId: r.Username}, Username: r.Username, Mail: r.Mail, DisplayName: r.DisplayName}
	if !skipGroups {
		u.Groups = r.Groups
	}
	return u
}

func (m *jsonManager) find(match func(record) bool) (record, bool) {
	for _, r := range m.records {
		if match(r) {
			return r, true
		}
	}
	return record{}, false
}

func (m *jsonManager) GetUser(ctx context.Context, uid *UserId, skip bool) (*User, error) {
	m.logger.Debug("GetUser", "request-id", RequestID(ctx))
	if uid == nil {
		return nil, fmt.Errorf("GetUser: no user id")
	}
	r, ok := m.find(func(r record) bool { return r.Username == uid.OpaqueId })
	if !ok {
		return nil, fmt.Errorf("error: not found: user %s", uid.OpaqueId)
	}
	return m.user(r, skip), nil
}

func (m *jsonManager) GetUserByClaim(_ context.Context, claim, value string, skip bool) (*User, error) {
	r, ok := m.find(func(r record) bool {
		switch claim {
		case "mail":
			return r.Mail == value
		case "username":
			return r.Username == value
		}
		return false
	})
	if !ok {
		return nil, fmt.Errorf("error: not found: user with %s %s", claim, value)
	}
	return m.user(r, skip), nil
}

func (m *jsonManager) GetUserGroups(ctx context.Context, uid *UserId) ([]string, error) {
	u, err := m.GetUser(ctx, uid, false)
	if err != nil {
		return nil, err
	}
	return u.Groups, nil
}

func (m *jsonManager) FindUsers(_ context.Context, query string, skip bool) ([]*User, error) {
	q := strings.ToLower(query)
	users := []*User{}
	for _, r := range m.records {
		if strings.Contains(strings.ToLower(r.Username+" "+r.DisplayName+" "+r.Mail), q) {
			users = append(users, m.user(r, skip))
		}
	}
	return users, nil
}

func serveDriver() {
	logger := hclog.New(&hclog.LoggerOptions{Level: hclog.Trace, Output: os.Stderr, JSONFormat: true})
	var settings struct {
		Users string `json:"users"`
	}
	if raw := os.Getenv("PLUGWIRE_DRIVER_SETTINGS"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &settings); err != nil {
			fmt.Fprintln(os.Stderr, "reva-userprovider: PLUGWIRE_DRIVER_SETTINGS:", err)
			os.Exit(1)
		}
	}
	if settings.Users == "" {
		fmt.Fprintln(os.Stderr, "reva-userprovider: setting `users` (the users JSON file) is required")
		os.Exit(1)
	}
	data, err := os.ReadFile(settings.Users)
	manager := &jsonManager{logger: logger}
	if err == nil {
		err = json.Unmarshal(data, &manager.records)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reva-userprovider:", err)
		os.Exit(1)
	}
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: Handshake,
		Plugins:         map[string]plugin.Plugin{PluginName: &ProviderPlugin{Impl: manager}},
	})
}

func main() {
	host := flag.Bool("host", false, "run as a host of the driver after --")
	users := flag.String("users", "", "host: the users file handed to the driver")
	flag.Parse()
	if *host {
		os.Exit(runHost(*users, flag.Args()))
	}
	serveDriver()
}
