package set_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/set"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Set") }
