package channel_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gopbx/gopbx/internal/channel"
)

type nopDriver struct{}

func (nopDriver) Answer(context.Context, *channel.Channel) error { return nil }
func (nopDriver) Indicate(context.Context, *channel.Channel, channel.Indication) error {
	return nil
}
func (nopDriver) Hangup(*channel.Channel, channel.Cause) {}

// TestRegistryLive: channels made and hung up from many goroutines at once
// are listed while live (over all shards), found by name, and published
// once as new and once as hung up.
func TestRegistryLive(t *testing.T) {
	reg := channel.NewRegistry(slog.New(slog.DiscardHandler))
	var news, hangups atomic.Int64
	reg.Subscribe(func(u channel.Update) {
		switch u.Kind {
		case channel.UpdNew:
			news.Add(1)
		case channel.UpdHangup:
			hangups.Add(1)
		}
	})
	const workers, per = 8, 100
	kept := make([][]*channel.Channel, workers)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				ch := reg.New("PJSIP", "1000", channel.Inbound, nopDriver{})
				if i%2 == 0 {
					ch.Hangup(channel.CauseNormalClearing)
					ch.Hangup(channel.CauseNormalClearing) // once only
				} else {
					kept[w] = append(kept[w], ch)
				}
			}
		}(w)
	}
	wg.Wait()
	live := reg.Channels()
	if len(live) != workers*per/2 {
		t.Fatalf("%d live channels, want %d", len(live), workers*per/2)
	}
	for i := 1; i < len(live); i++ {
		if live[i].Created().Before(live[i-1].Created()) {
			t.Fatal("Channels not oldest first")
		}
	}
	want := kept[3][7]
	if got := reg.Find(want.Name()); got != want {
		t.Errorf("Find(%q) = %v", want.Name(), got)
	}
	for _, ks := range kept {
		for _, ch := range ks {
			ch.Hangup(channel.CauseNormalClearing)
		}
	}
	if n := len(reg.Channels()); n != 0 {
		t.Errorf("%d live channels after every hangup, want 0", n)
	}
	if news.Load() != workers*per || hangups.Load() != workers*per {
		t.Errorf("published %d new and %d hangup updates, want %d each", news.Load(), hangups.Load(), workers*per)
	}
}

func TestRegistryTech(t *testing.T) {
	reg := channel.NewRegistry(slog.New(slog.DiscardHandler))
	if _, err := reg.Request(context.Background(), "PJSIP", "1000", nil); err == nil {
		t.Fatal("Request of an unregistered technology succeeded")
	}
}

// TestChannelLog: a channel's logger carries its name, and its call_id once
// the driver sets it, before the record's own attributes.
func TestChannelLog(t *testing.T) {
	var out strings.Builder
	reg := channel.NewRegistry(slog.New(slog.NewTextHandler(&out, nil)))
	ch := reg.New("PJSIP", "1001", channel.Inbound, nopDriver{})
	defer ch.Hangup(channel.CauseNormalClearing)
	ch.Log().Info("one", "k", 1)
	ch.SetCallID("abc@host")
	ch.Log().With("leg", "b").Info("two")
	ch.Log().Debug("not logged")
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("lines: %q", lines)
	}
	for i, want := range []string{
		"msg=one chan=" + ch.Name() + " k=1",
		"msg=two chan=" + ch.Name() + " call_id=abc@host leg=b",
	} {
		if !strings.Contains(lines[i], want) {
			t.Errorf("line %d %q lacks %q", i, lines[i], want)
		}
	}
}
