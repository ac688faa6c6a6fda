package codec

// desc is the common immutable Codec implementation; the codec specific
// work is in the encoder and decoder constructors.
type desc struct {
	name, encoding string
	pt             int
	clock, rate    int
	channels       int
	fmtp           string
	newEnc         func() (Encoder, error)
	newDec         func() (Decoder, error)
}

func (d desc) Name() string                 { return d.name }
func (d desc) Encoding() string             { return d.encoding }
func (d desc) StaticPT() int                { return d.pt }
func (d desc) ClockRate() int               { return d.clock }
func (d desc) SampleRate() int              { return d.rate }
func (d desc) Channels() int                { return d.channels }
func (d desc) FrameSamples() int            { return d.rate / 50 }
func (d desc) Fmtp() string                 { return d.fmtp }
func (d desc) NewEncoder() (Encoder, error) { return d.newEnc() }
func (d desc) NewDecoder() (Decoder, error) { return d.newDec() }
func (d desc) String() string               { return d.name }

var _ Codec = desc{}
