//go:build !unix

package render

func allocBlock(n int) ([]byte, error) { return make([]byte, n), nil }

func freeBlock([]byte) {}
