package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
)

// runHost is a Reva-like host: it loads a user provider driver over net/rpc and calls each
// method once, printing what it got (and the error of a user that does not exist).
func runHost(users string, command []string) int {
	report := map[string]any{}
	emit := func() {
		enc := json.NewEncoder(os.Stdout)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(report)
	}
	if len(command) == 0 {
		report["error"] = "the driver command follows --"
		emit()
		return 2
	}
	settings, _ := json.Marshal(map[string]string{"users": users})
	cmd := exec.Command(command[0], command[1:]...)
	cmd.Env = append(os.Environ(), "PLUGWIRE_DRIVER_SETTINGS="+string(settings))
	client := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		Plugins:          map[string]plugin.Plugin{PluginName: &ProviderPlugin{}},
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolNetRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "driver", Output: os.Stderr, Level: hclog.Debug}),
	})
	defer client.Kill()
	if err := call(client, report); err != nil {
		report["error"] = err.Error()
		emit()
		return 1
	}
	report["ok"] = true
	emit()
	return 0
}

func call(client *plugin.Client, report map[string]any) error {
	rpcClient, err := client.Client()
	if err != nil {
		return err
	}
	raw, err := rpcClient.Dispense(PluginName)
	if err != nil {
		return err
	}
	manager := raw.(Manager)
	ctx := WithRequestID(context.Background(), "req-1")
	marie, err := manager.GetUser(ctx, &UserId{Idp: idp, OpaqueId: "marie"}, false)
	if err != nil {
		return fmt.Errorf("GetUser: %w", err)
	}
	report["getUser"] = marie
	byMail, err := manager.GetUserByClaim(ctx, "mail", "einstein@example.org", true)
	if err != nil {
		return fmt.Errorf("GetUserByClaim: %w", err)
	}
	report["getUserByClaim"] = byMail
	groups, err := manager.GetUserGroups(ctx, &UserId{Idp: idp, OpaqueId: "richard"})
	if err != nil {
		return fmt.Errorf("GetUserGroups: %w", err)
	}
	report["getUserGroups"] = groups
	found, err := manager.FindUsers(ctx, "example.org", true)
	if err != nil {
		return fmt.Errorf("FindUsers: %w", err)
	}
	report["findUsers"] = found
	if _, err := manager.GetUser(ctx, &UserId{Idp: idp, OpaqueId: "nobody"}, false); err != nil {
		report["missingError"] = err.Error()
	}
	report["protocol"] = string(client.Protocol())
	return nil
}
