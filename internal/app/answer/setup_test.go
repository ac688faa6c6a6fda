package answer_test

import (
	"testing"

	_ "github.com/gopbx/gopbx/internal/app/answer"
	"github.com/gopbx/gopbx/internal/app/apptest"
)

func TestSetup(t *testing.T) { apptest.CheckSetup(t, "Answer") }
