// Package all imports the standard set of dialplan applications, as
// Caddy's modules/caddyhttp/standard does. A program that runs a dialplan
// imports it once:
//
//	import _ "github.com/gopbx/gopbx/internal/app/all"
//
// Each import registers its application with package app in init.
package all

import (
	_ "github.com/gopbx/gopbx/internal/app/answer"
	_ "github.com/gopbx/gopbx/internal/app/busy"
	_ "github.com/gopbx/gopbx/internal/app/congestion"
	_ "github.com/gopbx/gopbx/internal/app/dial"
	_ "github.com/gopbx/gopbx/internal/app/gosub"
	_ "github.com/gopbx/gopbx/internal/app/gosubif"
	_ "github.com/gopbx/gopbx/internal/app/gotoapp"
	_ "github.com/gopbx/gopbx/internal/app/gotoif"
	_ "github.com/gopbx/gopbx/internal/app/gotoiftime"
	_ "github.com/gopbx/gopbx/internal/app/hangup"
	_ "github.com/gopbx/gopbx/internal/app/logapp"
	_ "github.com/gopbx/gopbx/internal/app/macro"
	_ "github.com/gopbx/gopbx/internal/app/mset"
	_ "github.com/gopbx/gopbx/internal/app/noop"
	_ "github.com/gopbx/gopbx/internal/app/playtones"
	_ "github.com/gopbx/gopbx/internal/app/progress"
	_ "github.com/gopbx/gopbx/internal/app/returnapp"
	_ "github.com/gopbx/gopbx/internal/app/ringing"
	_ "github.com/gopbx/gopbx/internal/app/set"
	_ "github.com/gopbx/gopbx/internal/app/stopplaytones"
	_ "github.com/gopbx/gopbx/internal/app/verbose"
	_ "github.com/gopbx/gopbx/internal/app/voice"
	_ "github.com/gopbx/gopbx/internal/app/wait"
)
