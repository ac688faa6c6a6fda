package harness

import (
	"context"
	"fmt"
	"math"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"
)

// AudioStats is what `sox FILE -n stat` measures.
type AudioStats struct {
	Length  float64 // seconds
	RMS     float64 // RMS amplitude, 0..1
	RMSdB   float64 // RMS in dBFS
	FreqHz  float64 // sox's "Rough frequency"
	Samples int
}

// MeasureAudio runs sox stat on path, skipping the first skip seconds
// (codec start-up), and fails the test when sox fails.
func MeasureAudio(t testing.TB, path string, skip time.Duration) AudioStats {
	t.Helper()
	sox := RequireTool(t, "sox")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	args := []string{path, "-n"}
	if skip > 0 {
		args = append(args, "trim", strconv.FormatFloat(skip.Seconds(), 'f', 3, 64))
	}
	args = append(args, "stat")
	out, err := exec.CommandContext(ctx, sox, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("harness: sox %v: %v\n%s", args, err, out)
	}
	st, err := parseSoxStat(string(out))
	if err != nil {
		t.Fatalf("harness: sox stat %s: %v\n%s", path, err, out)
	}
	return st
}

func parseSoxStat(out string) (AudioStats, error) {
	var st AudioStats
	found := 0
	for _, line := range strings.Split(out, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		v = strings.TrimSpace(v)
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		switch k {
		case "Length (seconds)":
			st.Length = f
			found++
		case "RMS     amplitude":
			st.RMS = f
			found++
		case "Rough   frequency":
			st.FreqHz = f
			found++
		case "Samples read":
			st.Samples = int(f)
		}
	}
	if found < 3 {
		return st, fmt.Errorf("unexpected sox stat output")
	}
	if st.RMS > 0 {
		st.RMSdB = 20 * math.Log10(st.RMS)
	} else {
		st.RMSdB = -200
	}
	return st, nil
}
