package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestConsoleOverSocket(t *testing.T) {
	reg := NewRegistry()
	reg.Register(Command{Words: []string{"sip", "show", "peers"}, Summary: "list",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			io.WriteString(w, "peers here\n")
			return nil
		}})
	reg.Register(Command{Words: []string{"sip", "show", "peer"}, Usage: "sip show peer <name>", Summary: "one",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			if len(args) != 1 {
				return ErrUsage
			}
			io.WriteString(w, "peer "+args[0]+"\n")
			return nil
		}})
	path := filepath.Join(t.TempDir(), "c.ctl")
	srv := NewServer(reg, path, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go srv.Serve(ctx)

	c, err := Dial(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cases := []struct{ cmd, out, err string }{
		{"sip show peers", "peers here\n", ""},
		{"SIP SHOW PEER 1000", "peer 1000\n", ""}, // longest prefix, case-insensitive words
		{"sip show peer", "", "Usage: sip show peer <name>"},
		{"sip frobnicate", "", "No such command"},
		{"help sip", "sip show peer <name>", ""},
	}
	for _, tc := range cases {
		var out bytes.Buffer
		err := c.Exec(ctx, tc.cmd, &out)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: err = %v, want %q", tc.cmd, err, tc.err)
			}
			continue
		}
		if err != nil || !strings.Contains(out.String(), tc.out) {
			t.Errorf("%q: out %q err %v, want %q", tc.cmd, out.String(), err, tc.out)
		}
	}

	// Broadcast text reaches an attached console between commands.
	srv.Broadcast("<--- Received SIP request --->")
	var out bytes.Buffer
	if err := c.Exec(ctx, "sip show peers", &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Received SIP request") {
		t.Fatalf("broadcast not delivered: %q", out.String())
	}

	// A second daemon on the same socket is refused.
	if err := NewServer(reg, path, slog.New(slog.NewTextHandler(io.Discard, nil))).Listen(); err == nil {
		t.Fatal("second Listen on a live socket succeeded")
	}
	srv.Close()
	time.Sleep(10 * time.Millisecond)
	if _, err := Dial(ctx, path); err == nil {
		t.Fatal("socket still answers after Close")
	}
}
