package busy_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/busy"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Busy") }
