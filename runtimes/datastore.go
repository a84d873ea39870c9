package runtimes

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// Datastore serves the datastore calls of one python-script action (self.action_service),
// already scoped to its pack by the caller: names are full key names of the system scope.
type Datastore interface {
	// GetValue returns a key's value; found is false for a missing or expired key.
	GetValue(ctx context.Context, name string, decrypt bool) (value string, found bool, err error)
	// SetValue writes a key; ttl 0 never expires; encrypt stores it sealed.
	SetValue(ctx context.Context, name, value string, ttl time.Duration, encrypt bool) error
	// DeleteValue deletes a key; found is false when there was none.
	DeleteValue(ctx context.Context, name string) (found bool, err error)
	// ListValues returns the keys whose names start with prefix, name to value (a secret's as
	// ********).
	ListValues(ctx context.Context, prefix string) (map[string]string, error)
}

// Limits of the datastore channel of one run.
const (
	maxDatastoreRequest = 2 << 20 // one request line: a 1 MiB value, JSON-escaped
	maxDatastoreCalls   = 10000
)

// datastoreRequest is one line the action writes on fd 3.
type datastoreRequest struct {
	Op      string  `json:"op"` // get, set, delete, list
	Name    string  `json:"name"`
	Value   string  `json:"value"`
	TTL     float64 `json:"ttl"`
	Decrypt bool    `json:"decrypt"`
	Encrypt bool    `json:"encrypt"`
}

// datastoreReply is one line the worker writes back on fd 4.
type datastoreReply struct {
	OK     bool              `json:"ok"`
	Error  string            `json:"error,omitempty"`
	Found  bool              `json:"found,omitempty"`
	Value  string            `json:"value,omitempty"`
	Values map[string]string `json:"values,omitempty"`
}

// datastoreChannel is the pair of pipes a python-script action reaches the datastore through:
// it writes requests, one JSON line each, on fd 3 and reads one reply line each on fd 4. The
// action holds no database credentials; it can do only what ds allows.
type datastoreChannel struct {
	childEnds  []*os.File // fd 3 (the child writes), fd 4 (the child reads)
	requests   *os.File
	replies    *os.File
	done       chan struct{}
	closeOnce  sync.Once
	serveError error
}

// openDatastoreChannel creates the pipes; serve starts answering.
func openDatastoreChannel() (*datastoreChannel, error) {
	reqR, reqW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("create datastore pipe: %w", err)
	}
	repR, repW, err := os.Pipe()
	if err != nil {
		_, _ = reqR.Close(), reqW.Close()
		return nil, fmt.Errorf("create datastore pipe: %w", err)
	}
	return &datastoreChannel{childEnds: []*os.File{reqW, repR}, requests: reqR, replies: repW, done: make(chan struct{})}, nil
}

// serve answers requests until the action closes its end or close is called.
func (c *datastoreChannel) serve(ctx context.Context, ds Datastore) {
	defer close(c.done)
	sc := bufio.NewScanner(c.requests)
	sc.Buffer(make([]byte, 0, 64<<10), maxDatastoreRequest)
	out := bufio.NewWriter(c.replies)
	for n := 0; sc.Scan(); n++ {
		var reply datastoreReply
		if n >= maxDatastoreCalls {
			reply.Error = fmt.Sprintf("more than %d datastore calls in one run", maxDatastoreCalls)
		} else {
			reply = answer(ctx, ds, sc.Bytes())
		}
		b, _ := json.Marshal(reply)
		_, _ = out.Write(append(b, '\n'))
		if out.Flush() != nil {
			return
		}
	}
	c.serveError = sc.Err()
}

// answer runs one request.
func answer(ctx context.Context, ds Datastore, line []byte) datastoreReply {
	var req datastoreRequest
	if err := json.Unmarshal(line, &req); err != nil {
		return datastoreReply{Error: "bad request: " + err.Error()}
	}
	var r datastoreReply
	var err error
	switch req.Op {
	case "get":
		r.Value, r.Found, err = ds.GetValue(ctx, req.Name, req.Decrypt)
	case "set":
		if req.TTL < 0 || req.TTL > float64(100*365*24*3600) {
			return datastoreReply{Error: fmt.Sprintf("ttl %v is not a number of seconds from 1 to 100 years", req.TTL)}
		}
		err = ds.SetValue(ctx, req.Name, req.Value, time.Duration(req.TTL*float64(time.Second)), req.Encrypt)
	case "delete":
		r.Found, err = ds.DeleteValue(ctx, req.Name)
	case "list":
		r.Values, err = ds.ListValues(ctx, req.Name)
	default:
		err = fmt.Errorf("unknown datastore call %q", req.Op)
	}
	if err != nil {
		return datastoreReply{Error: err.Error()}
	}
	r.OK = true
	return r
}

// closeChildEnds closes the worker's copies of the child's ends, once the child has them.
func (c *datastoreChannel) closeChildEnds() {
	for _, f := range c.childEnds {
		_ = f.Close()
	}
}

// close stops serving and waits for the server to return.
func (c *datastoreChannel) close() error {
	c.closeOnce.Do(func() {
		c.closeChildEnds() // when the child never started
		_ = c.requests.Close()
		<-c.done
		_ = c.replies.Close()
	})
	if errors.Is(c.serveError, os.ErrClosed) {
		return nil
	}
	return c.serveError
}
