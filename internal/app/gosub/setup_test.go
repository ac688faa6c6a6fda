package gosub_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/gosub"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Gosub") }
