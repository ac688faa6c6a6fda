package lazylog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

func TestWithLogsLikeLoggerWith(t *testing.T) {
	var want, got bytes.Buffer
	opts := &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}
	base := slog.New(slog.NewTextHandler(&want, opts)).With("component", "sip")
	lazyBase := slog.New(slog.NewTextHandler(&got, opts)).With("component", "sip")

	eager := base.With("call_id", "abc", "method", "INVITE").With("n", 2).WithGroup("g")
	lazy := With(With(lazyBase, slog.String("call_id", "abc"), slog.String("method", "INVITE")), slog.Int("n", 2)).WithGroup("g")
	for _, l := range []*slog.Logger{eager, lazy} {
		l.Debug("hidden", "x", 1)
		l.Info("shown", "x", 1)
	}
	if got.String() != want.String() {
		t.Fatalf("lazy:\n%s\neager:\n%s", got.String(), want.String())
	}
	if strings.Contains(got.String(), "hidden") || !strings.Contains(got.String(), `call_id=abc method=INVITE n=2 g.x=1`) {
		t.Fatalf("unexpected output %q", got.String())
	}
}

func TestWithoutGroup(t *testing.T) {
	var b bytes.Buffer
	l := With(slog.New(slog.NewTextHandler(&b, nil)), slog.String("chan", "PJSIP/a-1"))
	l.Warn("w", "k", "v")
	if !strings.Contains(b.String(), `chan=PJSIP/a-1 k=v`) {
		t.Fatalf("got %q", b.String())
	}
}

func BenchmarkWithUnused(b *testing.B) {
	l := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)).With("component", "sip")
	b.Run("slog", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = l.With("call_id", "a84b4c76e66710", "method", "REGISTER", "src", "127.0.0.1:5060")
		}
	})
	b.Run("lazylog", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = With(l, slog.String("call_id", "a84b4c76e66710"), slog.String("method", "REGISTER"), slog.String("src", "127.0.0.1:5060"))
		}
	})
}
