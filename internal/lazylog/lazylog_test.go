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

type attrSource []slog.Attr

func (a attrSource) LogAttrs() []slog.Attr { return a }

// TestDeferred: a Deferred handler logs like With(Next, Src's attributes),
// asks Src only when a record passes Enabled, and hands over on With.
func TestDeferred(t *testing.T) {
	var out strings.Builder
	next := slog.New(slog.NewTextHandler(&out, nil))
	asked := 0
	src := countingSource{attrs: attrSource{slog.String("call_id", "c1")}, asked: &asked}
	h := &Deferred{Next: next, Src: src}
	l := slog.New(h)
	l.Debug("off")
	if asked != 0 {
		t.Fatalf("Src asked for a disabled record")
	}
	l.Info("on", "k", 1)
	l.With("leg", "a").WithGroup("g").Info("grouped", "x", 2)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "msg=on call_id=c1 k=1") || !strings.Contains(lines[1], "msg=grouped call_id=c1 leg=a g.x=2") {
		t.Fatalf("lines %q", lines)
	}
}

type countingSource struct {
	attrs attrSource
	asked *int
}

func (c countingSource) LogAttrs() []slog.Attr { *c.asked++; return c.attrs }
