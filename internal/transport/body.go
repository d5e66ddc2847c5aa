package transport

import (
	"errors"
	"io"
)

// DefaultMaxResponseBytes is the largest provider answer a Client reads when its Config does
// not set MaxResponseBytes: 10 MiB, far above any answer the providers document.
const DefaultMaxResponseBytes = 10 << 20

// errTooLarge says an answer was longer than the Client's limit.
var errTooLarge = errors.New("answer too large")

// maxChunk bounds the pieces an answer of unknown length is read in.
const maxChunk = 64 << 10

// readBody reads an answer of size bytes (-1: unknown) from r, refusing one longer than limit
// with errTooLarge. Memory stays bounded by the limit whatever the provider sends: a declared
// size above it is refused before anything is read, a declared size within it is read into one
// buffer of that size, and an answer of unknown length (chunked, or decompressed on the fly)
// is read in pieces of at most 64 KiB, stopped as soon as it passes the limit, and joined once
// at the end.
func readBody(r io.Reader, size, limit int64) ([]byte, error) {
	if size > limit {
		return nil, errTooLarge
	}
	if size >= 0 {
		// net/http ends the body after size bytes, and reports a shorter one as an error.
		buf := make([]byte, size)
		if _, err := io.ReadFull(r, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	var (
		chunks [][]byte
		cur    []byte
		total  int64
		next   = 512
	)
	for {
		if len(cur) == cap(cur) {
			if cur != nil {
				chunks = append(chunks, cur)
			}
			// Never more than one byte past the limit: that byte is enough to refuse.
			cur = make([]byte, 0, min(int64(next), limit+1-total))
			next = min(next*2, maxChunk)
		}
		n, err := r.Read(cur[len(cur):cap(cur)])
		cur = cur[:len(cur)+n]
		total += int64(n)
		if total > limit {
			return nil, errTooLarge
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if chunks == nil {
		return cur, nil
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return append(out, cur...), nil
}
