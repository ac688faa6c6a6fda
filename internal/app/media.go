package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/gopbx/gopbx/internal/channel"
	"github.com/gopbx/gopbx/internal/sound"
	"github.com/gopbx/gopbx/internal/tones"
)

// Source is anything that yields 20 ms frames of 8 kHz audio: a sound
// file, a tone generator, music on hold.
type Source interface {
	// Read returns the next 160 samples (reusing dst), io.EOF at the end.
	Read(dst []int16) ([]int16, error)
}

// MOH opens music-on-hold classes (musiconhold.conf).
type MOH interface {
	// Open returns an endless source for class ("" or unknown: default).
	Open(class string) (Source, error)
}

// MediaEnv is what the voice applications play from. The engine's zero
// value finds only silence and plays the built-in tones.
type MediaEnv struct {
	Sounds *sound.Finder
	Tones  *tones.Zones
	MOH    MOH
	// RecordDir is where Record puts relative file names (Asterisk: the
	// sounds directory), so recordings can be played back by name.
	RecordDir string

	gens sync.Map // *channel.Channel → *generator
}

// NewMediaEnv builds the environment; nil parts get safe defaults.
func NewMediaEnv(f *sound.Finder, z *tones.Zones, moh MOH) *MediaEnv {
	if f == nil {
		f = &sound.Finder{}
	}
	if z == nil {
		z = tones.Defaults()
	}
	return &MediaEnv{Sounds: f, Tones: z, MOH: moh}
}

// ErrNoMedia means the channel has no anchored media to play to.
var ErrNoMedia = errors.New("app: channel has no media session")

// toneSource adapts a tones.Generator (which never fails) to Source.
type toneSource struct{ g *tones.Generator }

func (t toneSource) Read(dst []int16) ([]int16, error) {
	if t.g.Done() {
		return nil, io.EOF
	}
	return t.g.Read(dst), nil
}

// ToneSource makes a Source of a tone name of the channel's zone ("ring",
// "busy") or of a tone list ("425/500,0/500").
func (m *MediaEnv) ToneSource(ch *channel.Channel, spec string) (Source, error) {
	spec = strings.TrimSpace(spec)
	zone := m.Tones.Default()
	if c, ok := ch.Var("TONEZONE"); ok && c != "" {
		if z := m.Tones.Get(c); z != nil {
			zone = z
		}
	}
	if zone != nil {
		if l, ok := zone.List(spec); ok {
			return toneSource{l.Generator()}, nil
		}
	}
	l, err := tones.Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("app: tone %q: %w", spec, err)
	}
	return toneSource{l.Generator()}, nil
}

// generator plays a source in the background (Playtones, music on hold)
// until stopped.
type generator struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// StartGenerator plays src to ch in the background until StopGenerator or
// the end of src, replacing a generator already running on ch.
func (m *MediaEnv) StartGenerator(ch *channel.Channel, src Source) error {
	med := channel.MediaOf(ch)
	if med == nil {
		return ErrNoMedia
	}
	m.StopGenerator(ch)
	ctx, cancel := context.WithCancel(ch.Context())
	g := &generator{cancel: cancel, done: make(chan struct{})}
	m.gens.Store(ch, g)
	go func() {
		defer close(g.done)
		defer m.gens.CompareAndDelete(ch, g)
		_, _ = stream(ctx, med, src, "", false)
	}()
	return nil
}

// StopGenerator stops ch's background generator, if any, and waits for it.
func (m *MediaEnv) StopGenerator(ch *channel.Channel) {
	if v, ok := m.gens.LoadAndDelete(ch); ok {
		g := v.(*generator)
		g.cancel()
		<-g.done
	}
}

// Stream plays src to ch at real-time pace until it ends, ctx ends, or a
// digit in stop arrives (returned; "any" stops on every digit). Digits
// not in stop are dropped, as in Asterisk's stream-and-wait.
func (m *MediaEnv) Stream(ctx context.Context, ch *channel.Channel, src Source, stop string) (byte, error) {
	med := channel.MediaOf(ch)
	if med == nil {
		return 0, ErrNoMedia
	}
	m.StopGenerator(ch)
	return stream(ctx, med, src, stop, true)
}

func stream(ctx context.Context, med channel.Media, src Source, stop string, digits bool) (byte, error) {
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	buf := make([]int16, 0, 160)
	var dch <-chan byte
	if digits {
		dch = med.Digits()
	}
	for {
		frame, err := src.Read(buf[:0])
		if errors.Is(err, io.EOF) {
			return 0, nil
		}
		if err != nil {
			return 0, err
		}
		if err := med.Write(frame); err != nil {
			return 0, err
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case d := <-dch:
			if stop == "any" || strings.IndexByte(stop, d) >= 0 {
				return d, nil
			}
		case <-t.C:
		}
	}
}

// PlayFiles plays prompts one after the other in ch's language; it stops
// at a digit in stop. A missing file is an error naming it.
func (m *MediaEnv) PlayFiles(ctx context.Context, ch *channel.Channel, names []string, stop string) (byte, error) {
	for _, name := range names {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		r, err := m.Sounds.Open(name, ch.Language())
		if err != nil {
			return 0, err
		}
		d, err := m.Stream(ctx, ch, r, stop)
		r.Close()
		if err != nil || d != 0 {
			return d, err
		}
	}
	return 0, nil
}

// WaitDigit waits up to timeout for a DTMF digit (0 on timeout).
func WaitDigit(ctx context.Context, ch *channel.Channel, timeout time.Duration) (byte, error) {
	med := channel.MediaOf(ch)
	if med == nil {
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-time.After(timeout):
			return 0, nil
		}
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return 0, ctx.Err()
	case d := <-med.Digits():
		return d, nil
	case <-t.C:
		return 0, nil
	}
}

// FlushDigits drops digits pressed before a prompt started.
func FlushDigits(ch *channel.Channel) {
	med := channel.MediaOf(ch)
	if med == nil {
		return
	}
	for {
		select {
		case <-med.Digits():
		default:
			return
		}
	}
}

// EnsureUp answers ch unless it is already up; applications that play to
// the caller do this unless told noanswer.
func EnsureUp(ctx context.Context, ch *channel.Channel) error {
	if ch.State() == channel.StateUp {
		return nil
	}
	return ch.Answer(ctx)
}
