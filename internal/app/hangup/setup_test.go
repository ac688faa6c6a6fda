package hangup_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/hangup"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Hangup") }
