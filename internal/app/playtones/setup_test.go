package playtones_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/playtones"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Playtones") }
