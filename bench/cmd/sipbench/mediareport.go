package main

import (
	"fmt"
	"strings"
)

// mediaMeaning explains each media workload in the report.
var mediaMeaning = map[string]string{
	"rtp-relay":         "Each step starts gopbx afresh, sets up N calls Go UAC → gopbx (Dial, anchored media, both legs ulaw: packets relayed untouched) → Go UAS, then sends G.711 RTP from both ends (160-byte payload every 20 ms per call and direction: 100 packets/s per call through gopbx) for a warm-up second and the window. A packet counts as relayed when it reaches the other end; lost = sent but not received within 300 ms of the end of sending (packets queued longer than that are as good as lost for voice). Latency is one-way, generator to generator through gopbx, from a send stamp in the payload (1 ms buckets: 1 means under 1 ms; transcoded packets lose the stamp). Clean = every call up, at most 0.1% lost each way, the window's relayed rate at least 97% of the rate sent in it (a relay that falls behind queues packets: they arrive late, not lost, once the load stops), p99 latency at most 100 ms (relayed calls; a hop taking more leaves little of G.114's 150 ms one-way budget), and the generator sending at least 99% of its target.",
	"rtp-relay-kernel":  "As rtp-relay, with rtp.conf kernelforward=yes: once both ends of a call are latched gopbx installs the bridge in an nftables map (internal/kfwd) and the kernel rewrites and forwards the packets; gopbx reads the kernel's per-stream counters once a second for the RTP timeout. The step is clean only if every bridge was in the kernel at the window's end (counted with nft). gopbx's CPU is then what the calls cost besides the packets; the generator (both ends, on the same two cores) is what is left to limit the steps.",
	"rtp-transcode":     "As above, but the caller's endpoint allows ulaw and the callee's only alaw: gopbx decodes every packet to 8 kHz linear audio and encodes it again (internal/codec) in both directions.",
	"held-calls":        "One gopbx; the Go UAC sets up calls (Dial, anchored media: two RTP sessions, 4 UDP sockets per call) up to each step and keeps them all up; no RTP flows. Each reading follows a forced GC (pprof heap?gc=1) and a second's wait, so RSS is live memory; KB per call = (RSS - RSS before the first call) / calls up.",
	"held-calls-direct": "One gopbx; the Go UAC sets up calls through Dial with direct_media=yes on both endpoints, so gopbx passes the session descriptions through and opens no RTP socket: a held call is its two SIP dialogs and two channels, no descriptor and no port. Calls are ramped up to each step and kept up; each reading follows a forced GC (pprof heap?gc=1) and a second's wait, so RSS is live memory; KB per call = (RSS - RSS before the first call) / calls up. The issue's target is at least 20,000 held calls at no more than 30 KB each.",
}

func (r *results) mediaMarkdown(b *strings.Builder, w *workloadResult) {
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("\n## %s\n\n", w.Title)
	if s, ok := mediaMeaning[w.Name]; ok {
		p("%s\n\n", s)
	}
	g := w.server("gopbx")
	if g == nil {
		return
	}
	mr := g.Media
	if mr == nil {
		p("Not run: %s.\n", orNA(g.Error))
		return
	}
	unit := "calls"
	if w.Kind == kindHeld {
		unit = "held calls"
	}
	best := "none"
	if mr.BestCalls > 0 {
		best = "**" + thousands(float64(mr.BestCalls)) + "**"
	}
	p("- Max clean step: %s %s; next step: %s.\n", best, unit, strings.ReplaceAll(mr.Limit, "|", "/"))
	if g.Error != "" {
		p("- Stopped: %s\n", strings.SplitN(g.Error, "\n", 2)[0])
	}
	if mr.PortsPerCall > 0 {
		p("- rtp.conf %s (room for %s calls on gopbx's one address at %d ports per call); RLIMIT_NOFILE %s (about %s calls).\n",
			mr.RTPRange, thousands(float64(mr.Capacity)), mr.PortsPerCall, thousands(float64(mr.FDLimit)), thousands(float64(mr.FDCalls)))
	} else {
		p("- Direct media: no RTP ports or descriptors per call in gopbx, so neither rtp.conf's range nor RLIMIT_NOFILE (%s) limits the steps.\n", thousands(float64(mr.FDLimit)))
	}
	if w.Baseline != "" {
		p("- %s\n", w.Baseline)
	}
	p("\n")
	if len(mr.Runs) == 0 {
		return
	}
	if w.Kind == kindHeld {
		p("| held calls | up | setup s of the calls added (calls/s) | RSS MB (idle → with calls) | KB per call | fds | goroutines | threads | result |\n")
		p("|---|---|---|---|---|---|---|---|---|\n")
		for _, x := range mr.Runs {
			p("| %s | %s | %.1f (%.0f) | %.0f → %.0f | %.1f | %s | %s | %d | %s |\n",
				thousands(float64(x.Calls)), thousands(float64(x.Established)), x.SetupS, x.SetupPerS,
				float64(x.RSS0KB)/1024, float64(x.RSSKB)/1024, x.KBPerCall, thousands(float64(x.FDs)), count(x.Goroutines), x.Threads, mediaResultCell(x))
		}
		if n := len(mr.Runs); n > 0 {
			x := mr.Runs[n-1]
			if x.Established > 0 && x.ServerAlive {
				p("\nPer held call at %s calls: %.1f KB RSS (Asterisk recorded: %d KB, %.1f× less), %.1f descriptors, %.1f goroutines.\n",
					thousands(float64(x.Established)), x.KBPerCall, asterisk.KBPerHeldCall, float64(asterisk.KBPerHeldCall)/max(x.KBPerCall, 0.1),
					float64(x.FDs-x.FDs0)/float64(x.Established), float64(x.Goroutines-x.Goroutines0)/float64(x.Established))
			}
		}
		return
	}
	p("| calls | up | packets/s target | relayed/s | loss %% caller→callee / callee→caller | latency ms p50 / p99 / max | gopbx CPU %% | gopbx CPU ms per 1,000 packets | generator CPU %% | kernel threads %% | machine CPU %% | RSS MB | KB per call | fds | goroutines | UDP drops gopbx / generator | result |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range mr.Runs {
		machine := fmt.Sprintf("%.0f", x.MachineCPUPct)
		if x.OtherCPUPct >= 5 {
			machine += fmt.Sprintf(" (%.0f other)", x.OtherCPUPct)
		}
		lat := "n/a (transcoded)"
		if x.LatencyN > 0 {
			lat = fmt.Sprintf("%g / %g / %g", x.LatencyP50, x.LatencyP99, x.LatencyMax)
		}
		p("| %s | %s | %s | %s | %.3f / %.3f | %s | %.0f | %.2f | %.0f | %.0f | %s | %.0f | %.0f | %s | %s | %d / %d | %s |\n",
			thousands(float64(x.Calls)), thousands(float64(x.Established)), thousands(x.TargetPPS), thousands(x.RelayedPPS),
			x.LossFwdPct, x.LossRevPct, lat, x.ServerCPUPct, x.CPUmsPer1000, x.GenCPUPct, x.KernelCPUPct, machine,
			float64(x.RSSKB)/1024, x.KBPerCall, thousands(float64(x.FDs)), count(x.Goroutines), x.ServerDrops, x.GenDrops, mediaResultCell(x))
	}
	if mr.Profile != "" {
		p("\ngopbx's CPU profile over the window of one step (go tool pprof -top):\n\n```\n%s\n```\n", strings.TrimSpace(mr.Profile))
	}
}

// count prints a count, or n/a for -1 (gopbx's pprof listener did not
// answer within its timeout: it was overloaded).
func count(n int) string {
	if n < 0 {
		return "n/a"
	}
	return thousands(float64(n))
}

func mediaResultCell(x *mediaRun) string {
	s := "clean"
	if !x.Clean {
		s = "**not clean**: " + x.Why
		if x.Limit != "" {
			s += "; " + x.Limit
		}
	}
	if x.Note != "" {
		s += " (" + x.Note + ")"
	}
	return strings.ReplaceAll(s, "|", "/")
}
