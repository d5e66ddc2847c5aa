package buylinks

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestWatchSeesItsHostUntilStopped(t *testing.T) {
	var got []string
	stop := Watch("127.0.0.1:1", func(id, link string) { got = append(got, id+" "+link) })
	Built("127.0.0.1:2", "other", "http://127.0.0.1:2/buy?id=other")
	Built("127.0.0.1:1", "mine", "http://127.0.0.1:1/buy?id=mine")
	stop()
	stop() // a second stop does nothing
	Built("127.0.0.1:1", "late", "http://127.0.0.1:1/buy?id=late")
	assert.Equal(t, []string{"mine http://127.0.0.1:1/buy?id=mine"}, got)
	assert.Zero(t, watching.Load())
}
