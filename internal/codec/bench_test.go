package codec

import (
	"testing"
)

// Each iteration handles one 20 ms frame, so ns/op is the cost of a frame
// and 20e6/(ns/op) is the number of real-time streams per core.

func BenchmarkEncode(b *testing.B) {
	for _, c := range All() {
		b.Run(c.Name(), func(b *testing.B) {
			enc, err := c.NewEncoder()
			if err != nil {
				b.Fatal(err)
			}
			pcm := testSignal(c.FrameSamples(), c.SampleRate())
			var out []byte
			b.ReportAllocs()
			for b.Loop() {
				if out, err = enc.Encode(out, pcm); err != nil {
					b.Fatal(err)
				}
			}
			reportFrame(b)
		})
	}
}

func BenchmarkDecode(b *testing.B) {
	for _, c := range All() {
		b.Run(c.Name(), func(b *testing.B) {
			enc, _ := c.NewEncoder()
			dec, err := c.NewDecoder()
			if err != nil {
				b.Fatal(err)
			}
			payload, err := enc.Encode(nil, testSignal(c.FrameSamples(), c.SampleRate()))
			if err != nil {
				b.Fatal(err)
			}
			var out []int16
			b.ReportAllocs()
			for b.Loop() {
				if out, err = dec.Decode(out, payload); err != nil {
					b.Fatal(err)
				}
			}
			reportFrame(b)
		})
	}
}

func BenchmarkUlawToAlaw(b *testing.B) {
	src := make([]byte, 160)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		dst = UlawToAlawFrame(dst, src)
	}
	reportFrame(b)
}

func BenchmarkAlawToUlaw(b *testing.B) {
	src := make([]byte, 160)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]byte, 160)
	b.ReportAllocs()
	for b.Loop() {
		dst = AlawToUlawFrame(dst, src)
	}
	reportFrame(b)
}

func BenchmarkResample(b *testing.B) {
	for _, p := range [][2]int{{8000, 16000}, {16000, 8000}, {8000, 48000}, {48000, 8000}, {16000, 48000}, {48000, 16000}} {
		b.Run(rateName(p[0], p[1]), func(b *testing.B) {
			r, err := NewResampler(p[0], p[1])
			if err != nil {
				b.Fatal(err)
			}
			src := testSignal(p[0]/50, p[0])
			var dst []int16
			b.ReportAllocs()
			for b.Loop() {
				dst = r.Resample(dst, src)
			}
			reportFrame(b)
		})
	}
}

// reportFrame adds ns/frame and streams/core (real-time 20 ms frames one
// core can process) to the benchmark output.
func reportFrame(b *testing.B) {
	b.Helper()
	ns := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(ns, "ns/frame")
	b.ReportMetric(20e6/ns, "streams/core")
}
