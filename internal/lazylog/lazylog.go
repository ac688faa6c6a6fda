package lazylog

import (
	"context"
	"log/slog"
)

// With returns a logger that logs like l.With(attrs...) but formats attrs
// only for records that are logged.
func With(l *slog.Logger, attrs ...slog.Attr) *slog.Logger {
	h := l.Handler()
	if lh, ok := h.(*handler); ok {
		return slog.New(lh.withAttrs(attrs))
	}
	return slog.New(&handler{next: h, attrs: attrs})
}

// handler holds attributes for next until a record is handled.
type handler struct {
	next  slog.Handler
	attrs []slog.Attr
}

func (h *handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	// A new record, not r.AddAttrs: the held attributes come first, as
	// with Logger.With, and the caller's record is left untouched.
	nr := slog.NewRecord(r.Time, r.Level, r.Message, r.PC)
	nr.AddAttrs(h.attrs...)
	r.Attrs(func(a slog.Attr) bool {
		nr.AddAttrs(a)
		return true
	})
	return h.next.Handle(ctx, nr)
}

func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.withAttrs(attrs)
}

func (h *handler) withAttrs(attrs []slog.Attr) *handler {
	all := make([]slog.Attr, 0, len(h.attrs)+len(attrs))
	all = append(append(all, h.attrs...), attrs...)
	return &handler{next: h.next, attrs: all}
}

// WithGroup applies the held attributes first: they belong outside the
// group.
func (h *handler) WithGroup(name string) slog.Handler {
	return h.next.WithAttrs(h.attrs).WithGroup(name)
}
