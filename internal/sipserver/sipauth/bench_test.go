package sipauth

import (
	"context"
	"encoding/binary"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// reset forgets every nonce, keeping the maps' memory.
func (t *replayTable) reset() {
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		clear(s.m)
		s.mu.Unlock()
	}
}

// benchmarkVerify measures a whole REGISTER verification: header scan and
// parse, checks, nonce HMAC, lookup, digest, replay table. Each iteration
// answers a distinct challenge (nc=1), as phones re-registering do.
func benchmarkVerify(b *testing.B, alg, user, pass string) {
	h := newHarness(b, func(c *Config) { c.Algorithms = []string{alg} })
	const pool = 4096
	reqs := make([]*sip.Request, pool)
	for i := range reqs {
		c := fromChallenge(b, h.auth.Challenge(newRequest(b, "REGISTER", regURI), Options{}), alg)
		c.Username, c.Password, c.Method, c.URI = user, pass, "REGISTER", regURI
		reqs[i] = c.answer(b, regURI)
	}
	ctx := context.Background()
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if i == pool {
			b.StopTimer()
			h.auth.replay.reset()
			i = 0
			b.StartTimer()
		}
		if _, err := h.auth.Verify(ctx, reqs[i], Options{}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkVerifyMD5(b *testing.B)    { benchmarkVerify(b, "MD5", "alice", "wonderland") }
func BenchmarkVerifySHA256(b *testing.B) { benchmarkVerify(b, "SHA-256", "bob", "builder") }

func BenchmarkChallenge(b *testing.B) {
	h := newHarness(b, nil)
	req := newRequest(b, "REGISTER", regURI)
	b.ReportAllocs()
	for b.Loop() {
		h.auth.Challenge(req, Options{})
	}
}

func BenchmarkChallengeTwoAlgorithms(b *testing.B) {
	h := newHarness(b, nil)
	req := newRequest(b, "REGISTER", regURI)
	opts := Options{Algorithms: []string{"SHA-256", "MD5"}}
	b.ReportAllocs()
	for b.Loop() {
		h.auth.Challenge(req, opts)
	}
}

// BenchmarkReplayFull measures use on a full table, as under sustained
// REGISTER load: every new nonce makes room for itself now and then.
func BenchmarkReplayFull(b *testing.B) {
	t := newReplayTable(DefaultMaxNonces, int64(time.Hour), 0)
	var key nonceKey
	n := int64(0)
	b.ReportAllocs()
	for b.Loop() {
		n++
		binary.LittleEndian.PutUint64(key[:8], uint64(n)*0x9E3779B97F4A7C15)
		if t.use(key, n, 1, n) != replayOK {
			b.Fatal("fresh nonce refused")
		}
	}
}
