package channel

// Cause is a Q.850 hangup cause, as Asterisk's AST_CAUSE_*.
type Cause int

const (
	CauseUnknown                 Cause = 0
	CauseUnallocated             Cause = 1
	CauseNoRouteTransitNet       Cause = 2
	CauseNoRouteDestination      Cause = 3
	CauseNormalClearing          Cause = 16
	CauseUserBusy                Cause = 17
	CauseNoUserResponse          Cause = 18
	CauseNoAnswer                Cause = 19
	CauseSubscriberAbsent        Cause = 20
	CauseCallRejected            Cause = 21
	CauseNumberChanged           Cause = 22
	CauseDestinationOutOfOrder   Cause = 27
	CauseInvalidNumberFormat     Cause = 28
	CauseFacilityRejected        Cause = 29
	CauseNormalUnspecified       Cause = 31
	CauseNormalCircuitCongestion Cause = 34
	CauseNetworkOutOfOrder       Cause = 38
	CauseNormalTemporaryFailure  Cause = 41
	CauseSwitchCongestion        Cause = 42
	CauseRequestedChanUnavail    Cause = 44
	CauseBearerCapNotAvail       Cause = 58
	CauseBearerCapNotImpl        Cause = 65
	CauseChanNotImplemented      Cause = 66
	CauseIncompatibleDestination Cause = 88
	CauseInvalidMsgUnspecified   Cause = 95
	CauseRecoveryOnTimerExpire   Cause = 102
	CauseInterworking            Cause = 127
)

// SIPStatus maps a cause to the final response sent to a SIP caller, as
// chan_pjsip's hangup_cause2sip; a cause it does not list (normal clearing
// among them) gives 603 Decline, as pjsip_inv_end_session does.
func (c Cause) SIPStatus() (int, string) {
	switch c {
	case CauseUnallocated, CauseNoRouteDestination, CauseNoRouteTransitNet:
		return 404, "Not Found"
	case CauseNormalCircuitCongestion, CauseSwitchCongestion:
		return 503, "Service Unavailable"
	case CauseNoUserResponse:
		return 408, "Request Timeout"
	case CauseNoAnswer, CauseSubscriberAbsent, CauseNormalUnspecified:
		return 480, "Temporarily Unavailable"
	case CauseCallRejected:
		return 403, "Forbidden"
	case CauseNumberChanged:
		return 410, "Gone"
	case CauseInvalidNumberFormat:
		return 484, "Address Incomplete"
	case CauseUserBusy:
		return 486, "Busy Here"
	case CauseNetworkOutOfOrder: // AST_CAUSE_FAILURE
		return 500, "Server Internal Error"
	case CauseFacilityRejected:
		return 501, "Not Implemented"
	case CauseChanNotImplemented:
		return 503, "Service Unavailable"
	case CauseDestinationOutOfOrder:
		return 502, "Bad Gateway"
	case CauseBearerCapNotAvail:
		return 488, "Not Acceptable Here"
	case CauseInterworking:
		return 500, "Server Internal Error"
	}
	return 603, "Decline"
}

// CauseFromSIP maps a SIP final response to a cause, as Asterisk's
// hangup_sip2cause.
func CauseFromSIP(code int) Cause {
	switch code {
	case 401, 402, 403, 407:
		return CauseCallRejected
	case 404, 485, 604:
		return CauseUnallocated
	case 405, 501:
		return CauseFacilityRejected
	case 406:
		return CauseIncompatibleDestination
	case 408:
		return CauseNoUserResponse
	case 410:
		return CauseNumberChanged
	case 411, 413, 414, 415, 420, 421:
		return CauseInterworking
	case 480:
		return CauseNoAnswer
	case 481, 482, 483, 484:
		if code == 484 {
			return CauseInvalidNumberFormat
		}
		return CauseNoRouteDestination
	case 486, 600:
		return CauseUserBusy
	case 487:
		return CauseNormalClearing // cancelled: Asterisk reports ORIGINATOR_CANCEL; DIALSTATUS says CANCEL
	case 488, 606:
		return CauseBearerCapNotImpl
	case 491:
		return CauseInterworking
	case 500:
		return CauseInterworking
	case 502:
		return CauseDestinationOutOfOrder
	case 503:
		return CauseNormalCircuitCongestion
	case 504:
		return CauseRecoveryOnTimerExpire
	case 603:
		return CauseCallRejected
	}
	switch {
	case code >= 400 && code < 500:
		return CauseInterworking
	case code >= 500 && code < 600:
		return CauseNormalCircuitCongestion
	case code >= 600:
		return CauseCallRejected
	}
	return CauseNormalClearing
}

// CauseError is an error that carries the hangup cause it stands for, so
// Dial can tell a busy destination (call-limit) from an unavailable one.
type CauseError struct {
	Cause Cause
	Err   error
}

func (e *CauseError) Error() string { return e.Err.Error() }
func (e *CauseError) Unwrap() error { return e.Err }
