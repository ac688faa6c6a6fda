package gopool

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestRunsEveryTaskConcurrently(t *testing.T) {
	p := New(time.Second)
	const n = 100
	var started sync.WaitGroup
	started.Add(n)
	release := make(chan struct{})
	var done atomic.Int32
	var wg sync.WaitGroup
	wg.Add(n)
	for i := 0; i < n; i++ {
		p.Go(func() {
			defer wg.Done()
			started.Done()
			<-release // every task blocks: none may wait for another
			done.Add(1)
		})
	}
	started.Wait()
	if w := p.Workers(); w != n {
		t.Errorf("workers = %d with %d blocked tasks, want %d", w, n, n)
	}
	close(release)
	wg.Wait()
	if done.Load() != n {
		t.Fatalf("done = %d, want %d", done.Load(), n)
	}
}

func TestReusesIdleWorkerAndExits(t *testing.T) {
	p := New(200 * time.Millisecond)
	ran := make(chan struct{})
	p.Go(func() { ran <- struct{}{} })
	<-ran
	// The worker is idle now (or about to be): further tasks reuse it.
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; i < 20; i++ {
		p.Go(func() { ran <- struct{}{} })
		<-ran
	}
	if w := p.Workers(); w > 2 {
		t.Errorf("workers = %d after sequential tasks, want 1 (2 at most while the first settles)", w)
	}
	for p.Workers() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("workers = %d after the idle time, want 0", p.Workers())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// deep grows the stack to about n KB.
func deep(n int) byte {
	var buf [1024]byte
	buf[n%1024] = byte(n)
	if n == 0 {
		return buf[0]
	}
	return deep(n-1) + buf[n%1024]
}

var sink byte

func BenchmarkGoDeep(b *testing.B) {
	b.Run("go", func(b *testing.B) {
		var wg sync.WaitGroup
		for i := 0; i < b.N; i++ {
			wg.Add(1)
			go func() { sink = deep(12); wg.Done() }()
			wg.Wait()
		}
	})
	b.Run("pool", func(b *testing.B) {
		p := New(time.Second)
		var wg sync.WaitGroup
		for i := 0; i < b.N; i++ {
			wg.Add(1)
			p.Go(func() { sink = deep(12); wg.Done() })
			wg.Wait()
		}
	})
}
