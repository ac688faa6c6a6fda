package stopplaytones_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/stopplaytones"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "StopPlaytones") }
