package sipserver

import (
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
