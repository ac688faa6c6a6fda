package sound

import (
	"bytes"
	"io"
	"testing"
)

func BenchmarkReadWAV(b *testing.B) {
	data := appendWAVHeader(nil, SampleRate, 2*SampleRate)
	data = append(data, make([]byte, 2*SampleRate)...)
	br := bytes.NewReader(data)
	var frame []int16
	b.ReportAllocs()
	for b.Loop() {
		br.Reset(data)
		r, err := OpenReader("bench.wav", br, "wav")
		if err != nil {
			b.Fatal(err)
		}
		for {
			if frame, err = r.Read(frame); err == io.EOF {
				break
			}
		}
	}
}
