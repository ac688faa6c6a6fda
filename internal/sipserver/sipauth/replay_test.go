package sipauth

import (
	"testing"
	"time"
)

func TestReplayTable(t *testing.T) {
	const (
		lifetime = int64(32 * time.Second)
		t0       = int64(1_000 * time.Second)
	)
	// key returns distinct keys that all land in shard 0.
	key := func(i int) nonceKey {
		var k nonceKey
		k[1], k[2] = byte(i), byte(i>>8)
		return k
	}
	tests := []struct {
		name string
		run  func(t *testing.T, rt *replayTable)
	}{
		{"nc must increase", func(t *testing.T, rt *replayTable) {
			want(t, rt.use(key(1), t0, 1, t0), replayOK)
			want(t, rt.use(key(1), t0, 1, t0), replayReused)
			want(t, rt.use(key(1), t0, 7, t0), replayOK)
			want(t, rt.use(key(1), t0, 6, t0), replayReused)
			want(t, rt.use(key(1), t0, 0, t0), replayReused)
		}},
		{"no qop is single use", func(t *testing.T, rt *replayTable) {
			want(t, rt.use(key(1), t0, 0, t0), replayOK)
			want(t, rt.use(key(1), t0, 0, t0), replayReused)
			want(t, rt.use(key(1), t0, 0xffffffff, t0), replayReused)
		}},
		{"issued before start is forgotten", func(t *testing.T, rt *replayTable) {
			want(t, rt.use(key(1), t0-1, 1, t0), replayForgotten)
		}},
		{"expired entries go first and keep live ones", func(t *testing.T, rt *replayTable) {
			for i := range 8 {
				want(t, rt.use(key(i), t0, 1, t0), replayOK)
			}
			now := t0 + lifetime + 1
			// Shard full of expired entries: they go, the newcomer fits.
			want(t, rt.use(key(100), now, 1, now), replayOK)
			if n := rt.len(); n != 1 {
				t.Fatalf("len = %d, want 1", n)
			}
			// The expired ones cannot come back even if the clock steps back.
			want(t, rt.use(key(3), t0, 2, t0), replayForgotten)
		}},
		{"full of live entries evicts the oldest", func(t *testing.T, rt *replayTable) {
			for i := range 8 {
				want(t, rt.use(key(i), t0+int64(i), 1, t0+8), replayOK)
			}
			want(t, rt.use(key(8), t0+8, 1, t0+8), replayOK)
			if n := rt.len(); n > 8 {
				t.Fatalf("len = %d, want <= 8", n)
			}
			// key(0) was the oldest: evicted, and now refused rather than replayable.
			want(t, rt.use(key(0), t0, 2, t0+9), replayForgotten)
			// Newer ones are still remembered.
			want(t, rt.use(key(7), t0+7, 1, t0+9), replayReused)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt := newReplayTable(8*replayShards, lifetime, t0) // 8 per shard
			tt.run(t, rt)
		})
	}
}

func want(t *testing.T, got, want replayVerdict) {
	t.Helper()
	if got != want {
		t.Fatalf("verdict %d, want %d", got, want)
	}
}
