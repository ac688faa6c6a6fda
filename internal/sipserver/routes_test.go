package sipserver

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"
)

// TestSourceRoutes: a wildcard socket's source address is the kernel's
// (as the uncached Advertised finds it), asked once per remote host while
// the entry is fresh and again once it has expired; a socket bound to an
// address is never looked up.
func TestSourceRoutes(t *testing.T) {
	r := newSourceRoutes()
	asked := 0
	r.dial = func(remote string) (string, bool) {
		asked++
		return kernelSource(remote)
	}
	want, _ := Advertised("0.0.0.0:5060", "127.0.0.5:5070")
	if want == "" {
		t.Fatal("the kernel gave no source address towards 127.0.0.5")
	}
	for i := 0; i < 3; i++ {
		h, p := r.advertised("0.0.0.0:5060", "127.0.0.5:"+[]string{"5070", "5071", "5072"}[i])
		if h != want || p != 5060 {
			t.Fatalf("advertised = %s:%d, want %s:5060", h, p, want)
		}
	}
	if asked != 1 {
		t.Errorf("asked the kernel %d times for one remote host, want 1", asked)
	}
	r.advertised("0.0.0.0:5060", "127.0.0.6:5070")
	if asked != 2 {
		t.Errorf("asked %d times after a second host, want 2", asked)
	}
	r.mu.Lock()
	e := r.m["127.0.0.5"]
	e.expires = time.Now().Add(-time.Second)
	r.m["127.0.0.5"] = e
	r.mu.Unlock()
	r.advertised("0.0.0.0:5060", "127.0.0.5:5070")
	if asked != 3 {
		t.Errorf("asked %d times after the entry expired, want 3", asked)
	}
	if h, p := r.advertised("127.0.0.9:5080", "127.0.0.5:5070"); h != "127.0.0.9" || p != 5080 || asked != 3 {
		t.Errorf("bound socket: %s:%d (asked %d), want 127.0.0.9:5080 without asking", h, p, asked)
	}
}

func BenchmarkAdvertisedWildcard(b *testing.B) {
	r := newSourceRoutes()
	b.Run("uncached", func(b *testing.B) {
		for b.Loop() {
			Advertised("0.0.0.0:5060", "127.0.0.5:5060")
		}
	})
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			r.advertised("0.0.0.0:5060", "127.0.0.5:5060")
		}
	})
}

// TestClientForShared: one client per (advertised address, transport,
// UDP socket), whatever the transport's case; another socket or
// transport gets its own.
func TestClientForShared(t *testing.T) {
	s, err := New(Options{UserAgent: "gopbx-test", Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Listen(context.Background(), []Listener{{Proto: "udp", Addr: "127.0.0.1:0"}, {Proto: "udp", Addr: "127.0.0.1:0"}}); err != nil {
		t.Fatal(err)
	}
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	}()
	l := s.Listeners()
	a, b := l[0].Addr, l[1].Addr
	c := s.ClientFor(a, "127.0.0.5:5060", "UDP")
	if c == nil || s.ClientFor(a, "127.0.0.5:5060", "udp") != c || s.ClientFor(a, "127.0.0.6:5070", "udp") != c {
		t.Fatal("the same socket and transport got another client")
	}
	if s.ClientFor(b, "127.0.0.5:5060", "udp") == c {
		t.Fatal("another UDP socket got the same client")
	}
	if s.ClientFor(a, "127.0.0.5:5060", "tcp") == c {
		t.Fatal("TCP got the UDP client")
	}
}
