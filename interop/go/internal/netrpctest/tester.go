// Package netrpctest is the net/rpc plugin interface that netrpc-plugin serves and netrpc-host
// calls, over go-plugin's net/rpc protocol (Plugin.Server / Plugin.Client, the MuxBroker). The
// TypeScript fixture test/fixtures/netrpc-tester.ts declares the same Go types with plugwire's
// gob schema builders and serves the same methods, so either host runs either plugin.
package netrpctest

import (
	"net/rpc"

	"github.com/hashicorp/go-plugin"
)

// Name is the plugin's name in both sides' plugin sets (sent on the wire by Dispense).
const Name = "tester"

// Handshake is the cookie both sides use.
var Handshake = plugin.HandshakeConfig{
	MagicCookieKey:   "NETRPC_TESTER",
	MagicCookieValue: "tester",
}

// Address is nested in Person through a pointer, as gob flattens pointers.
type Address struct {
	Street string
	City   string
}

// Person is a struct argument with every shape a Go interface usually carries.
type Person struct {
	Name    string
	Age     int
	Tags    []string
	Address *Address
	Scores  map[string]float64
	// secret is unexported: gob neither sends nor expects it.
	secret string
}

// Card is Describe's struct reply.
type Card struct {
	Text    string
	Letters int
	Tags    []string
	City    string
	Best    string
}

// Output is what Print writes to the plugin's stdout and stderr.
type Output struct {
	Stdout string
	Stderr string
}

// LogArgs is one hclog line the plugin logs.
type LogArgs struct {
	Message string
	Key     string
	Value   string
}

// AddArgs are the operands of the broker callback's Plugin.Add.
type AddArgs struct {
	A int
	B int
}

// CallbackArgs asks the plugin to dial the host's broker id and call Plugin.Add there.
type CallbackArgs struct {
	ID uint32
	A  int
	B  int
}

// Empty is the reply of methods that answer nothing but an error.
type Empty struct{}

// Tester is the interface over RPC.
type Tester interface {
	Double(n int) (int, error)
	Describe(p Person) (Card, error)
	Fail(message string) error
	Print(o Output) error
	Log(a LogArgs) error
	Crash(code int) error
	Sleep(ms int) (int, error)
	// AddVia has the plugin call back into an Adder the host serves under a broker id.
	AddVia(a CallbackArgs) (int, error)
	// ServeAdder has the plugin serve an Adder under a broker id of its own, for the host to dial.
	ServeAdder() (uint32, error)
	Pid() (int, error)
}

// Adder is served through the MuxBroker in both directions.
type Adder struct{}

// Add is Plugin.Add on a brokered stream.
func (Adder) Add(a AddArgs, r *int) error {
	*r = a.A + a.B
	return nil
}

// Plugin is the go-plugin plugin: Server for the plugin side (Impl set), Client for the host.
type Plugin struct {
	// Impl builds the server object for one dispense (it gets that connection's broker).
	Impl func(*plugin.MuxBroker) any
}

// Server returns the net/rpc object served as "Plugin" on the dispensed stream.
func (p *Plugin) Server(b *plugin.MuxBroker) (any, error) {
	return p.Impl(b), nil
}

// Client returns a *Client calling the plugin over c.
func (*Plugin) Client(b *plugin.MuxBroker, c *rpc.Client) (any, error) {
	return &Client{rpc: c, Broker: b}, nil
}

// Client is what the host gets from Dispense(Name).
type Client struct {
	rpc    *rpc.Client
	Broker *plugin.MuxBroker
}

func (c *Client) Double(n int) (int, error) {
	var r int
	err := c.rpc.Call("Plugin.Double", n, &r)
	return r, err
}

func (c *Client) Describe(p Person) (Card, error) {
	var r Card
	err := c.rpc.Call("Plugin.Describe", p, &r)
	return r, err
}

func (c *Client) Fail(message string) error {
	return c.rpc.Call("Plugin.Fail", message, &Empty{})
}

func (c *Client) Print(o Output) error {
	return c.rpc.Call("Plugin.Print", o, &Empty{})
}

func (c *Client) Log(a LogArgs) error {
	return c.rpc.Call("Plugin.Log", a, &Empty{})
}

func (c *Client) Crash(code int) error {
	return c.rpc.Call("Plugin.Crash", code, &Empty{})
}

func (c *Client) Sleep(ms int) (int, error) {
	var r int
	err := c.rpc.Call("Plugin.Sleep", ms, &r)
	return r, err
}

func (c *Client) AddVia(a CallbackArgs) (int, error) {
	var r int
	err := c.rpc.Call("Plugin.AddVia", a, &r)
	return r, err
}

func (c *Client) ServeAdder() (uint32, error) {
	var r uint32
	err := c.rpc.Call("Plugin.ServeAdder", Empty{}, &r)
	return r, err
}

func (c *Client) Pid() (int, error) {
	var r int
	err := c.rpc.Call("Plugin.Pid", Empty{}, &r)
	return r, err
}
