package sipserver

import (
	"context"
	"log/slog"
)

// levelShift lowers sipgo's log records by one level (Error→Warn,
// Warn→Info, Info→Debug): sipgo reports peers' malformed input as errors, but
// for a PBX that is routine internet noise, not our fault.
type levelShift struct{ h slog.Handler }

func shift(l slog.Level) slog.Level {
	switch {
	case l >= slog.LevelError:
		return slog.LevelWarn
	case l >= slog.LevelWarn:
		return slog.LevelInfo
	default:
		return slog.LevelDebug - 4
	}
}

func (s levelShift) Enabled(ctx context.Context, l slog.Level) bool {
	return s.h.Enabled(ctx, shift(l))
}

func (s levelShift) Handle(ctx context.Context, r slog.Record) error {
	r2 := slog.NewRecord(r.Time, shift(r.Level), r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool { r2.AddAttrs(a); return true })
	return s.h.Handle(ctx, r2)
}

func (s levelShift) WithAttrs(as []slog.Attr) slog.Handler { return levelShift{s.h.WithAttrs(as)} }
func (s levelShift) WithGroup(n string) slog.Handler       { return levelShift{s.h.WithGroup(n)} }
