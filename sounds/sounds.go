package sounds

import (
	"embed"
	"io/fs"
)

//go:embed en moh prompts.txt
var files embed.FS

// FS returns the embedded prompts and music on hold, rooted so that
// "en/hello-world.wav" and "moh/default-1.wav" are valid names. It is meant to
// be the last place a sound.Finder looks, after the directories on disk.
func FS() fs.FS { return files }
