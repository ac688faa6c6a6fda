package progress_test

import (
	"testing"

	"github.com/gopbx/gopbx/internal/app/apptest"
	_ "github.com/gopbx/gopbx/internal/app/progress"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Progress") }
