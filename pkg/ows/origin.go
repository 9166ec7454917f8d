package ows

import "net/http"

// Origin is the scheme and host a request reached the server by: the base
// of the links a service writes when no public URL is configured.
func Origin(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}
