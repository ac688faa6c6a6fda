package congestion_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/congestion"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Congestion") }
