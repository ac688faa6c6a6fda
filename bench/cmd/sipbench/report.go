package main

import (
	"fmt"
	"math"
	"strings"
)

// opMeaning explains one op of each workload in the report.
var opMeaning = map[string]string{
	"register": "One op = one registration: REGISTER → 401 → REGISTER with Authorization (MD5, qop=auth) → 200, i.e. 2 transactions and 4 packets, users u0001..u1000 in turn.",
	"options":  "One op = one OPTIONS to the server itself answered 200 (1 transaction, 2 packets).",
}

func (r *results) markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	p("# gopbx benchmark: gopbx and Kamailio side by side\n\n")
	p("- Run: %s, mode %s", r.Date, r.Mode)
	if r.Elapsed != "" {
		p(", took %s", r.Elapsed)
	}
	p(".\n")
	m := r.Machine
	p("- Machine: %d CPUs (nproc), %s, %d MB RAM, kernel %s, %s.\n", m.NProc, m.CPUModel, m.MemMB, m.Kernel, m.Go)
	p("- Software: %s; %s; %s; commit %s.\n", orNA(m.Gopbx), orNA(m.SIPp), orNA(m.Kamailio), orNA(m.Commit))
	p("- Addresses: gopbx %s; Kamailio %s", r.Addresses["gopbx"], r.Addresses["kamailio"])
	if a := r.Addresses["kamailio-db"]; a != "" {
		p("; Kamailio+SQLite %s", a)
	}
	p(". Server, SIPp and sipbench share the %d CPUs.\n", m.NProc)
	if a := r.Addresses["media"]; a != "" {
		p("- Media loads: %s.\n", a)
	}
	for _, n := range r.Notes {
		p("- %s\n", n)
	}
	for _, n := range r.Merged {
		p("- %s\n", n)
	}
	p("\nClean = at most 0.1%% failed calls and at least 90%% of the target rate achieved (successful calls over SIPp's run time). Figures at the max clean rate are the median [min–max] of %s; ratios are %s (above 1: gopbx has more of it).\n", repsPhrase(r), ratiosPhrase(r))

	var pending []*workloadResult
	for _, w := range r.Workloads {
		if w.Pending != "" {
			pending = append(pending, w)
			continue
		}
		r.workloadMarkdown(&b, w)
	}
	if len(pending) > 0 {
		p("\n## Not measured yet\n\n")
		for _, w := range pending {
			p("- %s: %s. The workload table in bench/cmd/sipbench/workloads.go has its entry.\n", w.Title, w.Pending)
		}
	}

	a := r.Asterisk
	p("\n## Asterisk baseline: recorded elsewhere, NOT measured in this run\n\n")
	p("Asterisk is not in Debian's archive, so this run cannot measure it. Issue 7 records these figures for Asterisk on this machine kind (2 vCPU):\n\n")
	p("| Asterisk (recorded) | value |\n|---|---|\n")
	p("| REGISTER/s | %s at %.1f ms CPU each |\n", thousands(float64(a.RegisterPerS)), a.RegisterCPUms)
	p("| B2BUA calls/s max clean | %d (%s ms CPU per call) |\n", a.B2BUACallsPerS, a.B2BUACPUmsPerCall)
	p("| RSS per held call | %d KB |\n", a.KBPerHeldCall)
	p("| held calls | about %s before its %s file-descriptor limit |\n", thousands(float64(a.HeldCalls)), thousands(float64(a.FDLimit)))

	if r.Micro != nil {
		p("\n## Go micro-benchmarks (go test -bench . -benchmem -benchtime %s ./...)\n\n", r.Micro.Benchtime)
		if r.Micro.Error != "" {
			p("**Failed:** %s\n\n", r.Micro.Error)
		}
		if len(r.Micro.Lines) > 0 {
			p("```\n%s\n```\n", strings.Join(r.Micro.Lines, "\n"))
		}
	}

	p("\n## How to read this\n\n")
	p("- Server CPU is utime+stime from /proc/PID/stat over the SIPp run, summed over the server's process group (Kamailio's main process, 4 UDP workers, timers); ms/op divides it by successful SIPp calls. SIPp's CPU comes from its rusage. Percentages are of one core.\n")
	p("- Peak RSS is VmHWM summed over the server's processes: for Kamailio shared memory touched by several processes counts once per process, so its PSS (shared pages divided among processes, at the end of the run) is given beside it.\n")
	p("- UDP drops are the per-socket drop counters of /proc/net/udp (server socket / SIPp socket), sampled every 200 ms.\n")
	p("- Response times come from SIPp's -trace_rtt (timer 1: from the first request of the call to its final 200; for calls, INVITE to 200). SIPp's clock advances in 4 ms steps on this machine (coarse kernel clock, HZ=250), so 0 means within the tick it started in: only times of several ms are resolved, and the percentiles show when a server starts queueing.\n")
	p("- Media loads (calls with RTP, held calls): gopbx's CPU, RSS, threads and descriptors come from /proc/PID, its goroutines from its pprof listener (-pprof %s); generator CPU is sipbench's own (RTP generator, UAC, UAS; frames injected on lo through a packet socket as root, else sendmmsg; recvmmsg in batches of %d), kernel threads are softirq and kworker time; UDP drops are summed over every socket on gopbx's and the generator's addresses (/proc/net/udp, read at the end of the window).\n", mediaPprof, mmsgBatch)
	p("- \"limited by\" describes the first step that was not clean (or says the highest step was clean): which socket dropped, whether the machine's CPUs were saturated, or whether the server queued requests without using the CPU.\n")
	return b.String()
}

func ratiosPhrase(r *results) string {
	for _, w := range r.Workloads {
		if w.server("kamailio-db") != nil {
			return "gopbx/Kamailio and gopbx/Kamailio+SQLite"
		}
	}
	return "gopbx/Kamailio"
}

func repsPhrase(r *results) string {
	if strings.HasPrefix(r.Mode, "quick") {
		return "1 run (quick mode: the step run itself)"
	}
	return "3 runs at the best step (its step run and 2 repetitions)"
}

func (r *results) workloadMarkdown(b *strings.Builder, w *workloadResult) {
	if w.Kind != "" {
		r.mediaMarkdown(b, w)
		return
	}
	p := func(format string, a ...any) { fmt.Fprintf(b, format, a...) }
	p("\n## %s\n\n", w.Title)
	if s, ok := opMeaning[w.Name]; ok {
		p("%s\n\n", s)
	}
	// gopbx first, then the servers it is compared with (Kamailio, and
	// for registrations Kamailio writing through to SQLite), each with a
	// ratio column gopbx/server.
	g := w.server("gopbx")
	cols := []*serverResult{}
	if g != nil {
		cols = append(cols, g)
	}
	var others []*serverResult
	for _, s := range w.Servers {
		if s.Server != "gopbx" {
			cols = append(cols, s)
			if g != nil && g.Pending == "" && s.Pending == "" {
				others = append(others, s)
			}
		}
	}
	if len(cols) == 0 {
		return
	}
	if kdb := w.server("kamailio-db"); kdb != nil {
		p("%s\n\n", kamailioDBText(kdb))
	}
	p("| %s |", w.Op)
	for _, s := range cols {
		p(" %s |", s.Label)
	}
	for _, o := range others {
		p(" gopbx/%s |", o.Label)
	}
	p("\n|---|")
	for range len(cols) + len(others) {
		p("---|")
	}
	p("\n")
	row := func(label string, val func(*serverResult) string, ratio func(*serverResult) float64) {
		p("| %s |", label)
		for _, s := range cols {
			if s.Pending != "" {
				p(" not run |")
				continue
			}
			if s.Error != "" && s.Summary == nil {
				if strings.HasPrefix(s.Error, errBudget.Error()) {
					p(" skipped (time budget) |")
				} else {
					p(" error |")
				}
				continue
			}
			p(" %s |", val(s))
		}
		for _, o := range others {
			rs := ""
			if ratio != nil && g.Summary != nil && o.Summary != nil {
				if x, y := ratio(g), ratio(o); y > 0 {
					rs = fmt.Sprintf("%.2f", x/y)
				}
			}
			p(" %s |", rs)
		}
		p("\n")
	}
	sum := func(s *serverResult) *summary {
		if s.Summary == nil {
			return &summary{}
		}
		return s.Summary
	}
	row(fmt.Sprintf("max clean rate (%s/s)", w.Op), func(s *serverResult) string {
		if s.BestRate == 0 {
			return "none"
		}
		x := "**" + thousands(float64(s.BestRate)) + "**"
		if sm := s.Summary; sm != nil && sm.CleanRuns*2 <= sm.Runs {
			// The step was clean once, but most runs at it were not.
			x += fmt.Sprintf(" (unstable: %d of %d runs clean)", sm.CleanRuns, sm.Runs)
		}
		return x
	}, func(s *serverResult) float64 { return float64(s.BestRate) })
	row("achieved at that rate (/s)", func(s *serverResult) string { return fmtStat(sum(s).Achieved, 0, true) }, nil)
	row("server CPU ms per "+w.Op, func(s *serverResult) string { return fmtStat(sum(s).CPUmsPerOp, 3, false) },
		func(s *serverResult) float64 { return sum(s).CPUmsPerOp.Median })
	row("server CPU (% of one core)", func(s *serverResult) string { return fmtStat(sum(s).ServerCPU, 0, false) }, nil)
	row("SIPp CPU (% of one core)", func(s *serverResult) string { return fmtStat(sum(s).SIPpCPU, 0, false) }, nil)
	row("machine CPU, all processes (% of one core)", func(s *serverResult) string {
		x := fmtStat(sum(s).MachineCPU, 0, false)
		if o := sum(s).OtherCPU.Median; o >= 5 {
			x += fmt.Sprintf(" (%.0f other work)", o)
		}
		return x
	}, nil)
	row("peak RSS MB (VmHWM summed)", func(s *serverResult) string {
		x := fmtStat(sum(s).PeakRSSMB, 0, false)
		if len(s.Reps) > 0 && s.Reps[0].ServerProcs > 1 {
			x += fmt.Sprintf(" over %d processes; PSS %.0f", s.Reps[0].ServerProcs, sum(s).PSSMB.Median)
		}
		return x
	}, func(s *serverResult) float64 { return sum(s).PeakRSSMB.Median })
	row("response ms mean / p50 / p95 / p99", func(s *serverResult) string {
		x := sum(s)
		return fmt.Sprintf("%.2f / %g / %g / %g", x.RTTMean.Median, x.RTTP50.Median, x.RTTP95.Median, x.RTTP99.Median)
	}, nil)
	row("failed calls", func(s *serverResult) string { return fmtStat(sum(s).Failed, 0, false) }, nil)
	row("retransmissions", func(s *serverResult) string { return fmtStat(sum(s).Retrans, 0, false) }, nil)
	row("UDP drops server / SIPp", func(s *serverResult) string {
		return fmt.Sprintf("%.0f / %.0f", sum(s).SrvDrops.Max, sum(s).SIPpDrops.Max)
	}, nil)
	if w.server("kamailio-db") != nil {
		row("usrloc SQLite: location rows after the run / failed writes", func(s *serverResult) string {
			var rows, failed []*runResult
			for _, r := range s.Reps {
				if r.UsrlocDB != nil {
					rows = append(rows, r)
					failed = append(failed, r)
				}
			}
			if len(rows) == 0 {
				return "n/a (memory)"
			}
			return fmtStat(statOf(rows, func(r *runResult) float64 { return float64(r.UsrlocDB.Rows) }), 0, true) + " / " +
				fmtStat(statOf(failed, func(r *runResult) float64 { return float64(r.UsrlocDB.FailedWrites) }), 0, true)
		}, nil)
	}
	row("clean runs at that rate", func(s *serverResult) string { return fmt.Sprintf("%d of %d", sum(s).CleanRuns, sum(s).Runs) }, nil)
	row("next step limited by", func(s *serverResult) string {
		x := s.Limit
		if s.Knee != nil {
			x = fmt.Sprintf("%s/s: %s (%s)", thousands(float64(s.Knee.Target)), s.Knee.Why, s.Knee.Limit)
		}
		if s.Error != "" {
			x += " — stopped: " + s.Error
		}
		return strings.ReplaceAll(x, "|", "/")
	}, nil)
	// The cost at one rate both ran clean compares like with like: a row
	// per server gopbx is compared with.
	for _, o := range others {
		common := highestCommonClean(g, o)
		if common == 0 {
			continue
		}
		ga, oa := stepAt(g, common), stepAt(o, common)
		p("| server CPU ms per %s at %s/s (highest step gopbx and %s both ran clean) |", w.Op, thousands(float64(common)), o.Label)
		for _, s := range cols {
			switch s {
			case g:
				p(" %.3f |", ga.CPUmsPerOp)
			case o:
				p(" %.3f |", oa.CPUmsPerOp)
			default:
				p(" |")
			}
		}
		for _, x := range others {
			if x == o && oa.CPUmsPerOp > 0 {
				p(" %.2f |", ga.CPUmsPerOp/oa.CPUmsPerOp)
			} else {
				p(" |")
			}
		}
		p("\n")
	}

	for _, s := range cols {
		if s.Pending != "" {
			p("\n%s: not run: %s.\n", s.Label, s.Pending)
		}
	}
	if w.Baseline != "" {
		p("\n%s\n", w.Baseline)
	}
	if w.Name == "b2bua-calls" {
		if line := r.proxyContext(g); line != "" {
			p("\n%s\n", line)
		}
	}

	for _, s := range cols {
		if o := s.Overload; o != nil && s.BestRate > 0 {
			drops := "no socket drops"
			if o.ServerDrops > 0 {
				drops = fmt.Sprintf("%s datagrams dropped at the server's socket", thousands(float64(o.ServerDrops)))
			}
			p("\n**Overload** (%s, one run at twice the max clean rate): offered %s %s/s, %s completed/s (%.0f%% of the max clean rate), %.1f%% of the calls refused or failed (%s), %s, p99 setup %s ms.\n",
				s.Label, thousands(float64(o.Target)), w.Op, thousands(o.Achieved), 100*o.Achieved/float64(s.BestRate),
				100*float64(o.Failed)/float64(max(o.Successful+o.Failed, 1)), refusalsOf(o), drops, thousands(o.RTT.P99))
		}
	}

	p("\nAll runs (each against a freshly started server):\n\n")
	p("| server | run | target/s | achieved/s | failed | retrans | srv CPU ms/op | srv CPU %% | SIPp CPU %% | machine CPU %% | peak RSS MB | drops srv/SIPp | resp ms mean/p50/p95/p99 | result |\n")
	p("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, s := range cols {
		for _, rr := range s.Steps {
			run := "step"
			if rr.Rep == 1 && len(s.Reps) > 1 {
				run = "step, rep 1"
			}
			runRow(b, s.Label, run, rr)
		}
		for _, rr := range s.Reps {
			if rr.Rep >= 2 {
				runRow(b, s.Label, fmt.Sprintf("rep %d", rr.Rep), rr)
			}
		}
		if s.Overload != nil {
			runRow(b, s.Label, "overload (2× max clean)", s.Overload)
		}
		if s.Error != "" {
			label := "error"
			if strings.HasPrefix(s.Error, errBudget.Error()) {
				label = "skipped"
			}
			p("| %s | %s | | | | | | | | | | | | %s |\n", s.Label, label, strings.ReplaceAll(strings.SplitN(s.Error, "\n", 2)[0], "|", "/"))
		}
	}
}

// refusalsOf names the responses the server refused a run's calls with.
func refusalsOf(r *runResult) string {
	if len(r.Refused) == 0 {
		return "none answered with an error response"
	}
	return refusalText(r.Refused)
}

func stepAt(s *serverResult, rate int) *runResult {
	for _, r := range s.Steps {
		if r.Target == rate {
			return r
		}
	}
	return &runResult{}
}

func runRow(b *strings.Builder, label, run string, r *runResult) {
	res := "clean"
	if !r.Clean {
		res = "**not clean**: " + r.Why
		if r.Limit != "" {
			res += "; " + r.Limit
		}
	}
	if u := r.UsrlocDB; u != nil {
		res += fmt.Sprintf("; SQLite location rows %s, failed writes %s", thousands(float64(u.Rows)), thousands(float64(u.FailedWrites)))
		if u.Error != "" {
			res += ", reading it: " + u.Error
		}
	}
	if r.Note != "" {
		res += " (" + r.Note + ")"
	}
	machine := fmt.Sprintf("%.0f", r.MachineCPUPct)
	if r.OtherCPUPct >= 5 {
		machine += fmt.Sprintf(" (%.0f other)", r.OtherCPUPct)
	}
	fmt.Fprintf(b, "| %s | %s | %s | %s | %d | %d | %.3f | %.0f | %.0f | %s | %.0f | %d / %d | %.2f / %g / %g / %g | %s |\n",
		label, run, thousands(float64(r.Target)), thousands(r.Achieved), r.Failed, r.Retrans, r.CPUmsPerOp,
		r.ServerCPUPct, r.SIPpCPUPct, machine, r.PeakRSSMB, r.ServerDrops, r.SIPpDrops+r.UASDrops,
		r.RTT.Mean, r.RTT.P50, r.RTT.P95, r.RTT.P99, strings.ReplaceAll(res, "|", "/"))
}

// fmtStat prints "median [min–max]", or just the value when they agree.
func fmtStat(s stat, prec int, sep bool) string {
	f := func(x float64) string {
		if sep {
			return thousands(x)
		}
		return fmt.Sprintf("%.*f", prec, x)
	}
	if f(s.Min) == f(s.Max) {
		return f(s.Median)
	}
	return fmt.Sprintf("%s [%s–%s]", f(s.Median), f(s.Min), f(s.Max))
}

// thousands formats a rounded number with comma separators.
func thousands(x float64) string {
	n := int64(math.Round(x))
	neg := n < 0
	if neg {
		n = -n
	}
	s := fmt.Sprint(n)
	var out []byte
	for i := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func orNA(s string) string {
	if s == "" {
		return "n/a"
	}
	return s
}

// proxyContext puts gopbx's B2BUA cost per call beside Kamailio's as a
// stateful proxy in the same run, at the highest rate both ran clean: the
// machine's speed changes from day to day (the same binary's CPU per call
// by a third), and this run's Kamailio is the yardstick measured on the
// same CPUs at the same time. The proxy does less per call (no second
// dialog, no media, no CDR, no dialplan), so it is context, not a ratio
// of like with like.
func (r *results) proxyContext(g *serverResult) string {
	if g == nil {
		return ""
	}
	var k *serverResult
	for _, w := range r.Workloads {
		if w.Name == "proxy-calls" {
			k = w.server("kamailio")
		}
	}
	if k == nil {
		return ""
	}
	common := highestCommonClean(g, k)
	if common == 0 {
		return ""
	}
	ga, ka := stepAt(g, common), stepAt(k, common)
	if ga.CPUmsPerOp <= 0 || ka.CPUmsPerOp <= 0 {
		return ""
	}
	return fmt.Sprintf("Same run, same CPUs, at %s call/s (the highest step both ran clean): gopbx's B2BUA %.3f ms CPU per call, Kamailio as a stateful proxy (below; it does less per call: one transaction layer, no second dialog, media, CDR or dialplan) %.3f ms (gopbx/Kamailio %.2f).",
		thousands(float64(common)), ga.CPUmsPerOp, ka.CPUmsPerOp, ga.CPUmsPerOp/ka.CPUmsPerOp)
}

// highestCommonClean is the highest step rate both servers ran clean, 0
// if none: where their costs compare like with like.
func highestCommonClean(a, b *serverResult) int {
	common := 0
	for _, x := range a.Steps {
		for _, y := range b.Steps {
			if x.Clean && y.Clean && x.Target == y.Target && x.Target > common {
				common = x.Target
			}
		}
	}
	return common
}
