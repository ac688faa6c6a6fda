package hangup

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/gopbx/gopbx/internal/app"
	"github.com/gopbx/gopbx/internal/channel"
)

// Hangup ends the call. With a cause (a Q.850 number or a name such as
// USER_BUSY) the channel is hung up with it; without, with the cause
// already recorded (a failed Dial's) or normal clearing.
type Hangup struct {
	log *slog.Logger
}

// Exec implements app.App.
func (h *Hangup) Exec(_ context.Context, ch *channel.Channel, args string) error {
	h.apply(ch, args)
	return app.ErrHangup
}

func (h *Hangup) apply(ch *channel.Channel, args string) channel.Cause {
	var cause channel.Cause
	if s := strings.TrimSpace(args); s != "" {
		c, ok := ParseCause(s)
		if !ok {
			h.log.Warn("invalid cause given to Hangup()", "cause", args, "chan", ch.Name())
		}
		cause = c
	}
	if cause <= 0 {
		cause = ch.HangupCause()
		if cause <= 0 {
			cause = channel.CauseNormalClearing
		}
	}
	ch.SetHangupCause(cause)
	return cause
}

// DryRun implements app.DryRunner.
func (h *Hangup) DryRun(_ context.Context, ch *channel.Channel, args string) (string, error) {
	c := h.apply(ch, args)
	return fmt.Sprintf("would hang up, cause %d", c), app.ErrHangup
}

// causeNames are Asterisk's names for ast_str2cause.
var causeNames = map[string]channel.Cause{
	"UNALLOCATED": 1, "NO_ROUTE_TRANSIT_NET": 2, "NO_ROUTE_DESTINATION": 3,
	"MISDIALLED_TRUNK_PREFIX": 5, "CHANNEL_UNACCEPTABLE": 6, "CALL_AWARDED_DELIVERED": 7,
	"PRE_EMPTED": 8, "NUMBER_PORTED_NOT_HERE": 14, "NORMAL_CLEARING": 16, "USER_BUSY": 17,
	"NO_USER_RESPONSE": 18, "NO_ANSWER": 19, "SUBSCRIBER_ABSENT": 20, "CALL_REJECTED": 21,
	"NUMBER_CHANGED": 22, "REDIRECTED_TO_NEW_DESTINATION": 23, "ANSWERED_ELSEWHERE": 26,
	"DESTINATION_OUT_OF_ORDER": 27, "INVALID_NUMBER_FORMAT": 28, "FACILITY_REJECTED": 29,
	"RESPONSE_TO_STATUS_ENQUIRY": 30, "NORMAL_UNSPECIFIED": 31, "NORMAL_CIRCUIT_CONGESTION": 34,
	"NETWORK_OUT_OF_ORDER": 38, "NORMAL_TEMPORARY_FAILURE": 41, "SWITCH_CONGESTION": 42,
	"ACCESS_INFO_DISCARDED": 43, "REQUESTED_CHAN_UNAVAIL": 44, "FACILITY_NOT_SUBSCRIBED": 50,
	"OUTGOING_CALL_BARRED": 52, "INCOMING_CALL_BARRED": 54, "BEARERCAPABILITY_NOTAUTH": 57,
	"BEARERCAPABILITY_NOTAVAIL": 58, "BEARERCAPABILITY_NOTIMPL": 65, "CHAN_NOT_IMPLEMENTED": 66,
	"FACILITY_NOT_IMPLEMENTED": 69, "INVALID_CALL_REFERENCE": 81, "INCOMPATIBLE_DESTINATION": 88,
	"INVALID_MSG_UNSPECIFIED": 95, "MANDATORY_IE_MISSING": 96, "MESSAGE_TYPE_NONEXIST": 97,
	"WRONG_MESSAGE": 98, "IE_NONEXIST": 99, "INVALID_IE_CONTENTS": 100, "WRONG_CALL_STATE": 101,
	"RECOVERY_ON_TIMER_EXPIRE": 102, "MANDATORY_IE_LENGTH_ERROR": 103, "PROTOCOL_ERROR": 111,
	"INTERWORKING": 127,
}

// ParseCause reads a hangup cause as Hangup() takes it: a name from
// Asterisk's cause table (any case) or a positive number.
func ParseCause(s string) (channel.Cause, bool) {
	s = strings.TrimSpace(s)
	if c, ok := causeNames[strings.ToUpper(s)]; ok {
		return c, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, false
	}
	return channel.Cause(n), true
}

var (
	_ app.App       = (*Hangup)(nil)
	_ app.DryRunner = (*Hangup)(nil)
)
