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

// Source gives the attributes a Deferred handler adds to each record.
type Source interface {
	LogAttrs() []slog.Attr
}

// Deferred is a handler that asks Src for its attributes only when a
// record is logged (or the logger is extended), then logs like
// With(Next, attrs...). Held in a long-lived value together with the
// slog.Logger that uses it (Src being that value), it costs no allocation
// at all: a request's or a channel's logger, which almost never logs,
// took three of them (the attributes, the handler, the Logger).
type Deferred struct {
	Next *slog.Logger
	Src  Source
}

func (h *Deferred) logger() *slog.Logger { return With(h.Next, h.Src.LogAttrs()...) }

// Enabled reports what Next's handler reports, without asking Src.
func (h *Deferred) Enabled(ctx context.Context, level slog.Level) bool {
	return h.Next.Handler().Enabled(ctx, level)
}

// Handle logs r with Src's attributes first.
func (h *Deferred) Handle(ctx context.Context, r slog.Record) error {
	return h.logger().Handler().Handle(ctx, r)
}

// WithAttrs hands over to a lazy logger with Src's attributes and attrs.
func (h *Deferred) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.logger().Handler().WithAttrs(attrs)
}

// WithGroup hands over to a lazy logger with Src's attributes outside the
// group.
func (h *Deferred) WithGroup(name string) slog.Handler {
	return h.logger().Handler().WithGroup(name)
}
