// Package bench holds the whole-system benchmarks run by `make bench`. Each
// compares pvs with a reference tool on the same machine in the same run and
// reports the ratio.
package bench
