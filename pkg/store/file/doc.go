// Package file is the local-filesystem Store: the embedded default. Objects
// are plain files under a root directory; writes go to a temporary file that
// is renamed into place, so a reader never sees half an object.
package file
