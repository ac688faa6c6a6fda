package tones

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gopbx/gopbx/internal/config"
)

// Zone is one country's indications: a section of indications.conf.
type Zone struct {
	country     string
	description string
	ringCadence []time.Duration
	tones       []zoneTone // file order; names unique, compared case-insensitively
}

type zoneTone struct {
	name  string
	value string
	list  List
}

// Country returns the zone's name, e.g. "us".
func (z *Zone) Country() string { return z.country }

// Description returns the country's full name.
func (z *Zone) Description() string { return z.description }

// RingCadence returns the on/off durations of the ringing bell (a copy).
func (z *Zone) RingCadence() []time.Duration {
	return append([]time.Duration(nil), z.ringCadence...)
}

// Tone returns the tone list called name (case-insensitive), as written.
func (z *Zone) Tone(name string) (string, bool) {
	if t := z.find(name); t != nil {
		return t.value, true
	}
	return "", false
}

// List returns the parsed tone list called name (case-insensitive).
func (z *Zone) List(name string) (List, bool) {
	if t := z.find(name); t != nil {
		return List{Parts: append([]Part(nil), t.list.Parts...)}, true
	}
	return List{}, false
}

// ToneNames returns the zone's tone names in file order.
func (z *Zone) ToneNames() []string {
	out := make([]string, len(z.tones))
	for i, t := range z.tones {
		out[i] = t.name
	}
	return out
}

func (z *Zone) find(name string) *zoneTone {
	for i := range z.tones {
		if strings.EqualFold(z.tones[i].name, name) {
			return &z.tones[i]
		}
	}
	return nil
}

// set adds or replaces a tone, as ast_register_indication does.
func (z *Zone) set(t zoneTone) {
	if old := z.find(t.name); old != nil {
		*old = t
		return
	}
	z.tones = append(z.tones, t)
}

// Zones is a set of tone zones with a default. It is immutable.
type Zones struct {
	byCountry map[string]*Zone // lower-case country
	order     []*Zone
	def       *Zone
}

// Default returns the zone named by [general] country=, or the first zone
// if that is missing or unknown (Asterisk's rule); nil if there are none.
func (zs *Zones) Default() *Zone { return zs.def }

// Get returns the zone for country (case-insensitive), the default zone for
// "", or nil if there is no such zone.
func (zs *Zones) Get(country string) *Zone {
	if country == "" {
		return zs.def
	}
	return zs.byCountry[strings.ToLower(country)]
}

// Tone returns the tone list name of country's zone. An empty or unknown
// country uses the default zone, as a channel without a valid tonezone
// does in Asterisk; a zone lacking the tone does not fall back.
func (zs *Zones) Tone(country, name string) (string, bool) {
	z := zs.Get(country)
	if z == nil {
		z = zs.def
	}
	if z == nil {
		return "", false
	}
	return z.Tone(name)
}

// Countries returns the zone names in file order.
func (zs *Zones) Countries() []string {
	out := make([]string, len(zs.order))
	for i, z := range zs.order {
		out[i] = z.country
	}
	return out
}

// builtinZone is one zone of the built-in table (builtin.go).
type builtinZone struct {
	country, description, ringCadence string
	tones                             [][2]string
}

// DefaultCountry is the default zone of Defaults, as in Asterisk's sample.
const DefaultCountry = "us"

// Defaults returns the zones of Asterisk's indications.conf.sample, for use
// when there is no indications.conf. Each call builds a fresh value.
func Defaults() *Zones {
	var b builder
	pos := config.Pos{} // "<builtin>"
	for _, bz := range builtinZones {
		z := &Zone{country: bz.country, description: bz.description}
		b.ringCadence(z, bz.ringCadence, pos)
		for _, t := range bz.tones {
			b.tone(z, t[0], t[1], pos)
		}
		b.add(z, pos)
	}
	b.setDefault(DefaultCountry, pos, false)
	return b.zones()
}

// LoadConf reads indications.conf. A file that cannot be read or parsed is
// an error (check errors.Is(err, fs.ErrNotExist) to fall back to
// Defaults). Problems Asterisk would log and skip, such as a bad tone list,
// come back as diagnostics citing file:line, and the item is left out.
func LoadConf(path string, opts ...config.Option) (*Zones, []config.Diag, error) {
	f, diags, err := config.ParseFile(path, opts...)
	if err != nil {
		return nil, diags, fmt.Errorf("tones: %w", err)
	}
	zs, more := FromFile(f)
	return zs, append(diags, more...), nil
}

// ParseConf is LoadConf for a file already in memory; name is used in
// positions.
func ParseConf(name string, data []byte, opts ...config.Option) (*Zones, []config.Diag, error) {
	f, diags, err := config.Parse(name, data, opts...)
	if err != nil {
		return nil, diags, fmt.Errorf("tones: %w", err)
	}
	zs, more := FromFile(f)
	return zs, append(diags, more...), nil
}

// FromFile builds zones from a parsed indications.conf, as main/indications.c
// load_indications does: every section but [general] is a zone; a zone
// needs a description and at least one tone.
func FromFile(f *config.File) (*Zones, []config.Diag) {
	var b builder
	seen := map[string]*Zone{}
	var general *config.Section
	for _, s := range f.All() {
		if strings.EqualFold(s.Name, "general") {
			if general == nil {
				general = s
			} else {
				b.diags.Warnf(s.Pos, "second [general] ignored (the first is at %s)", general.Pos)
			}
			continue
		}
		key := strings.ToLower(s.Name)
		z := seen[key]
		if z != nil {
			// Asterisk reuses the zone: later values replace earlier ones,
			// and the ring cadence starts over.
			b.diags.Warnf(s.Pos, "zone [%s] defined again; its values replace those of the first", s.Name)
			z.ringCadence = nil
		} else {
			z = &Zone{country: s.Name}
			seen[key] = z
		}
		for _, v := range s.Vars {
			switch strings.ToLower(v.Name) {
			case "description":
				z.description = v.Value
			case "ringcadence":
				b.ringCadence(z, v.Value, v.Pos)
			default:
				b.tone(z, v.Name, v.Value, v.Pos)
			}
		}
		if !b.has(z) {
			b.add(z, s.Pos)
		}
	}
	country, pos := "", config.Pos{File: f.Path, Line: 1}
	if general != nil {
		pos = general.Pos
		for _, v := range general.Vars {
			if strings.EqualFold(v.Name, "country") {
				country, pos = v.Value, v.Pos
			} else {
				b.diags.Warnf(v.Pos, "unknown option %q in [general]", v.Name)
			}
		}
	}
	b.setDefault(country, pos, true)
	if len(b.order) == 0 {
		b.diags.Warnf(config.Pos{File: f.Path, Line: 1}, "no valid tone zones")
	}
	return b.zones(), b.diags.List()
}

// builder collects zones and diagnostics; Defaults and FromFile share it so
// the built-in table gets the same checks as a file.
type builder struct {
	diags     config.Diags
	byCountry map[string]*Zone
	order     []*Zone
	def       *Zone
}

func (b *builder) has(z *Zone) bool { return b.byCountry[strings.ToLower(z.country)] == z }

func (b *builder) ringCadence(z *Zone, val string, pos config.Pos) {
	for _, item := range strings.Split(val, ",") {
		item = strings.TrimSpace(item)
		ms, err := strconv.Atoi(item)
		if err != nil || ms < 0 {
			b.diags.Warnf(pos, "invalid ringcadence value %q skipped", item)
			continue
		}
		z.ringCadence = append(z.ringCadence, time.Duration(ms)*time.Millisecond)
	}
}

func (b *builder) tone(z *Zone, name, val string, pos config.Pos) {
	l, err := Parse(val)
	if err != nil {
		b.diags.Warnf(pos, "[%s] %s: %v; tone skipped", z.country, name, err)
		return
	}
	z.set(zoneTone{name: name, value: val, list: l})
}

// add registers z if it is valid, as is_valid_tone_zone decides.
func (b *builder) add(z *Zone, pos config.Pos) {
	if z.description == "" || len(z.tones) == 0 {
		b.diags.Warnf(pos, "zone [%s] needs a description and at least one valid tone; ignored", z.country)
		return
	}
	if b.byCountry == nil {
		b.byCountry = map[string]*Zone{}
	}
	b.byCountry[strings.ToLower(z.country)] = z
	b.order = append(b.order, z)
}

// setDefault picks the default zone; warnMissing asks for Asterisk's
// "Missing default country" warning when country is empty.
func (b *builder) setDefault(country string, pos config.Pos, warnMissing bool) {
	if len(b.order) > 0 {
		b.def = b.order[0]
	}
	switch {
	case country == "":
		if warnMissing {
			b.diags.Warnf(pos, "no default country in [general]; using the first zone")
		}
	case b.byCountry[strings.ToLower(country)] == nil:
		b.diags.Warnf(pos, "default country %q has no valid zone; using the first zone", country)
	default:
		b.def = b.byCountry[strings.ToLower(country)]
	}
}

func (b *builder) zones() *Zones {
	zs := &Zones{byCountry: b.byCountry, order: b.order, def: b.def}
	if zs.byCountry == nil {
		zs.byCountry = map[string]*Zone{}
	}
	return zs
}
