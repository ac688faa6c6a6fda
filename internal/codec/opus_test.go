//go:build opus && cgo

package codec

import "testing"

func TestOpusRoundTrip(t *testing.T) {
	c, ok := Lookup("opus")
	if !ok {
		t.Fatal("opus not registered")
	}
	if c.StaticPT() != -1 || c.ClockRate() != 48000 || c.Channels() != 2 || c.Fmtp() != "useinbandfec=1" {
		t.Errorf("opus SDP parameters: %d %d %d %q", c.StaticPT(), c.ClockRate(), c.Channels(), c.Fmtp())
	}
	if got, ok := ByEncoding("OPUS", 48000); !ok || got.Name() != "opus" {
		t.Errorf("ByEncoding(OPUS/48000) = %v", got)
	}
	enc, err := c.NewEncoder()
	if err != nil {
		t.Fatal(err)
	}
	dec, err := c.NewDecoder()
	if err != nil {
		t.Fatal(err)
	}
	in := sine(48000, 48000, 1000, 10000)
	var out []int16
	var p []byte
	var pcm []int16
	for i := 0; i < len(in); i += 960 {
		if p, err = enc.Encode(p, in[i:i+960]); err != nil {
			t.Fatal(err)
		}
		if len(p) == 0 || len(p) > 400 {
			t.Fatalf("packet of %d bytes", len(p))
		}
		if pcm, err = dec.Decode(pcm, p); err != nil {
			t.Fatal(err)
		}
		if len(pcm) != 960 {
			t.Fatalf("decoded %d samples", len(pcm))
		}
		out = append(out, pcm...)
	}
	out = out[4800:]
	if f := dominantFreq(out, 48000); f != 1000 {
		t.Errorf("dominant frequency %v", f)
	}
	if snr := toneSNR(out, 48000, 1000); snr < 20 {
		t.Errorf("SNR %.1f dB", snr)
	} else {
		t.Logf("SNR %.1f dB", snr)
	}
	// Packet loss concealment: an empty payload yields 20 ms.
	if pcm, err = dec.Decode(pcm, nil); err != nil || len(pcm) != 960 {
		t.Errorf("PLC: %d samples, %v", len(pcm), err)
	}
}

func TestOpus16k(t *testing.T) {
	enc, err := NewOpusEncoderRate(16000)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := NewOpusDecoderRate(16000)
	if err != nil {
		t.Fatal(err)
	}
	in := sine(16000, 16000, 440, 8000)
	var out []int16
	for i := 0; i < len(in); i += 320 {
		p, err := enc.Encode(nil, in[i:i+320])
		if err != nil {
			t.Fatal(err)
		}
		pcm, err := dec.Decode(nil, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, pcm...)
	}
	if f := dominantFreq(out[1600:], 16000); f != 440 {
		t.Errorf("dominant frequency %v", f)
	}
	if _, err := enc.Encode(nil, make([]int16, 100)); err == nil {
		t.Error("100-sample frame accepted")
	}
}

// TestOpusFEC drops a packet and recovers it from the next one's in-band
// FEC data; the recovered audio must still carry the tone.
func TestOpusFEC(t *testing.T) {
	enc, _ := NewOpusEncoderRate(48000)
	dec, _ := NewOpusDecoderRate(48000)
	in := sine(48000, 48000, 500, 12000)
	var pkts [][]byte
	for i := 0; i < len(in); i += 960 {
		p, err := enc.Encode(nil, in[i:i+960])
		if err != nil {
			t.Fatal(err)
		}
		pkts = append(pkts, p)
	}
	var rec []int16
	for i := 0; i < 30; i++ {
		pcm, err := dec.Decode(nil, pkts[i])
		if err != nil {
			t.Fatal(err)
		}
		rec = append(rec, pcm...)
	}
	// Packet 30 is lost; 31 has arrived.
	pcm, err := dec.DecodeFEC(nil, pkts[31])
	if err != nil || len(pcm) != 960 {
		t.Fatalf("DecodeFEC: %d samples, %v", len(pcm), err)
	}
	if lvl := rms(pcm); lvl < 1000 {
		t.Errorf("recovered frame rms %.0f, want the tone (~8500)", lvl)
	}
	if _, err := dec.Decode(nil, pkts[31]); err != nil {
		t.Fatal(err)
	}
}
