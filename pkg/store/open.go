package store

import (
	"fmt"
	"net/url"
	"strings"
)

// Location is a parsed store URL: file:///dir, a plain path, or
// s3://bucket/prefix.
type Location struct {
	Scheme string // "file" or "s3"
	Path   string // directory for file
	Bucket string // bucket for s3
	Prefix string // key prefix for s3
}

// ParseLocation parses a store URL.
func ParseLocation(raw string) (Location, error) {
	if raw == "" {
		return Location{}, fmt.Errorf("empty store location")
	}
	if !strings.Contains(raw, "://") {
		return Location{Scheme: "file", Path: raw}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return Location{}, fmt.Errorf("store location %q: %w", raw, err)
	}
	switch u.Scheme {
	case "file":
		p := u.Path
		if u.Host != "" && u.Host != "localhost" {
			// file://relative/dir: keep the relative path
			p = u.Host + u.Path
		}
		return Location{Scheme: "file", Path: p}, nil
	case "s3":
		if u.Host == "" {
			return Location{}, fmt.Errorf("store location %q: no bucket", raw)
		}
		return Location{Scheme: "s3", Bucket: u.Host, Prefix: strings.Trim(u.Path, "/")}, nil
	default:
		return Location{}, fmt.Errorf("store location %q: unknown scheme %q (want file or s3)", raw, u.Scheme)
	}
}
