package location_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gopbx/gopbx/internal/location"
)

func benchMemory(b *testing.B) (*location.Memory, []location.Binding) {
	b.Helper()
	m := location.NewMemory()
	bs := make([]location.Binding, 1000)
	for i := range bs {
		aor := fmt.Sprint(1000 + i)
		bs[i] = location.Binding{
			AOR: aor, Contact: "sip:" + aor + "@192.168.1.10:5060", CallID: "c", CSeq: 1,
			Expires: time.Now().Add(time.Hour), Q: location.NoQ,
		}
		if err := m.Put(context.Background(), bs[i]); err != nil {
			b.Fatal(err)
		}
	}
	return m, bs
}

func BenchmarkMemoryPutRefresh(b *testing.B) {
	m, bs := benchMemory(b)
	ctx := context.Background()
	var worker atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		w := worker.Add(1)
		rnd := rand.New(rand.NewPCG(1, w))
		callID := fmt.Sprint("w", w)
		var cseq uint32
		for pb.Next() {
			bd := bs[rnd.IntN(len(bs))]
			cseq++
			bd.CallID, bd.CSeq = callID, cseq
			if err := m.Put(ctx, bd); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkMemoryLookup(b *testing.B) {
	m, bs := benchMemory(b)
	ctx := context.Background()
	var worker atomic.Uint64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		rnd := rand.New(rand.NewPCG(2, worker.Add(1)))
		for pb.Next() {
			if got, err := m.Lookup(ctx, bs[rnd.IntN(len(bs))].AOR); err != nil || len(got) != 1 {
				b.Errorf("Lookup = %v, %v", got, err)
				return
			}
		}
	})
}
