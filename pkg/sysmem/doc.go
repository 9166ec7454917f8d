// Package sysmem tells how much memory this process may use: the cgroup
// limit of its container (v2 or v1) when there is one, else the machine's
// physical memory. Caches are sized from it, so that a renderer given 1 GB
// by its orchestrator does not size itself for the host's 64 GB.
package sysmem
