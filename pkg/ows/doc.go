// Package ows holds the OGC exception that the protocol front ends (WMS,
// WMTS, WCS, OpenSearch) answer with, and the version-specific XML each of
// them writes it in. The value is protocol-free; the encoding is chosen by
// the front end, because the same failure is a ServiceExceptionReport to a
// WMS 1.1.1 client and an ows:ExceptionReport to a WCS 2.0.1 one. It also
// gives the front ends, STAC's included, the origin a request came by, for
// links when no public URL is configured.
package ows
