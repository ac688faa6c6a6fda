package pbx

import (
	"context"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/gopbx/gopbx/internal/cli"
	"github.com/gopbx/gopbx/internal/codec"
)

var codecDescriptions = map[string]string{
	"ulaw": "G.711 u-law", "alaw": "G.711 A-law", "gsm": "GSM 06.10 full rate",
	"g722": "G.722 64 kbit/s wideband", "opus": "Opus (libopus)",
}

func (p *PBX) registerMediaCommands(reg *cli.Registry) {
	reg.Register(cli.Command{Words: []string{"core", "show", "codecs"}, Summary: "Display the audio codecs compiled in",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tTYPE\tNAME\tSDP\tRATE\tDESCRIPTION")
			for i, c := range codec.All() {
				fmt.Fprintf(tw, "%d\taudio\t%s\t%s/%d\t%d Hz\t(%s)\n", i+1, c.Name(), c.Encoding(), c.ClockRate(), c.SampleRate(), codecDescriptions[c.Name()])
			}
			tw.Flush()
			if _, ok := codec.Lookup("opus"); !ok {
				fmt.Fprintln(w, "opus is not in this build (build with cgo, libopus-dev and -tags opus).")
			}
			fmt.Fprintln(w, "telephone-event/8000 (RFC 4733 DTMF) is offered with every codec.")
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"core", "show", "translation"}, Summary: "Display translation cost between codecs (measured now)",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			return showTranslation(w)
		}})
	reg.Register(cli.Command{Words: []string{"rtp", "show", "settings"}, Summary: "Display RTP settings and sessions in use",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			c := p.media.Config()
			fmt.Fprintf(w, "General Settings:\n----------------\n")
			fmt.Fprintf(w, "  Port start:      %d\n  Port end:        %d\n", c.Start, c.End)
			fmt.Fprintf(w, "  RTP timeout:     %s\n  RTP hold timeout: %s\n", offIfZero(c.Timeout), offIfZero(c.HoldTimeout))
			fmt.Fprintf(w, "  Symmetric RTP:   latch on first packet, re-latch after %s of silence\n", "1s")
			fmt.Fprintf(w, "  Streams in use:  %d\n", p.media.Count())
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"moh", "show", "classes"}, Summary: "List music on hold classes",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			type lister interface{ Names() []string }
			l, ok := p.menv.MOH.(lister)
			if !ok {
				fmt.Fprintln(w, "No music on hold classes.")
				return nil
			}
			for _, n := range l.Names() {
				fmt.Fprintf(w, "Class: %s\n\tMode: files\n", n)
			}
			return nil
		}})
	reg.Register(cli.Command{Words: []string{"indication", "show"}, Usage: "indication show [country ...]", Summary: "Display a list of all countries/indications",
		Run: func(ctx context.Context, w io.Writer, args []string) error {
			zs := p.menv.Tones
			countries := args
			if len(countries) == 0 {
				countries = zs.Countries()
			}
			fmt.Fprintln(w, "Country Indication      PlayList")
			fmt.Fprintln(w, "=====================================")
			for _, c := range countries {
				z := zs.Get(c)
				if z == nil {
					fmt.Fprintf(w, "No country %q\n", c)
					continue
				}
				fmt.Fprintf(w, "%-7.7s %-15.15s %s\n", z.Country(), "<description>", z.Description())
				for _, name := range z.ToneNames() {
					tone, _ := z.Tone(name)
					fmt.Fprintf(w, "%-7.7s %-15.15s %s\n", z.Country(), name, tone)
				}
			}
			return nil
		}})
}

func offIfZero(d time.Duration) string {
	if d <= 0 {
		return "off"
	}
	return d.String()
}

// showTranslation prints, as Asterisk's `core show translation`, the cost
// of turning one second of each codec into every other, in microseconds,
// measured on this machine now (decode, resample when rates differ,
// encode).
func showTranslation(w io.Writer) error {
	cs := codec.All()
	cost := func(from, to codec.Codec) (time.Duration, error) {
		dec, err := from.NewDecoder()
		if err != nil {
			return 0, err
		}
		enc, err := to.NewEncoder()
		if err != nil {
			return 0, err
		}
		var res codec.Resampler
		if from.SampleRate() != to.SampleRate() {
			if res, err = codec.NewResampler(from.SampleRate(), to.SampleRate()); err != nil {
				return 0, err
			}
		}
		srcEnc, err := from.NewEncoder()
		if err != nil {
			return 0, err
		}
		pcm := make([]int16, from.FrameSamples())
		for i := range pcm {
			pcm[i] = int16(i * 97 % 4000)
		}
		payload, err := srcEnc.Encode(nil, pcm)
		if err != nil {
			return 0, err
		}
		var dbuf []int16
		var ebuf []byte
		start := time.Now()
		for i := 0; i < 50; i++ { // one second
			if dbuf, err = dec.Decode(dbuf[:0], payload); err != nil {
				return 0, err
			}
			frame := dbuf
			if res != nil {
				frame = res.Resample(nil, frame)
			}
			if ebuf, err = enc.Encode(ebuf[:0], frame); err != nil {
				return 0, err
			}
		}
		return time.Since(start), nil
	}
	fmt.Fprintln(w, "         Translation times between formats (in microseconds) for one second of data")
	fmt.Fprintln(w, "          Source Format (Rows) Destination Format (Columns)")
	fmt.Fprintln(w)
	var hdr strings.Builder
	fmt.Fprintf(&hdr, "%8s", "")
	for _, c := range cs {
		fmt.Fprintf(&hdr, "%8s", c.Name())
	}
	fmt.Fprintln(w, hdr.String())
	for _, from := range cs {
		fmt.Fprintf(w, "%8s", from.Name())
		for _, to := range cs {
			if from.Name() == to.Name() {
				fmt.Fprintf(w, "%8s", "-")
				continue
			}
			d, err := cost(from, to)
			if err != nil {
				fmt.Fprintf(w, "%8s", "err")
				continue
			}
			fmt.Fprintf(w, "%8d", d.Microseconds())
		}
		fmt.Fprintln(w)
	}
	return nil
}
