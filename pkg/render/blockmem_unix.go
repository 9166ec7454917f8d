//go:build unix

package render

import "syscall"

// Block memory is mapped from the system, outside the Go heap, and given
// back as soon as a block is dropped.
func allocBlock(n int) ([]byte, error) {
	return syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
}

func freeBlock(b []byte) { syscall.Munmap(b) }
