package ops

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/pvs/pvs/pkg/queue"
	"github.com/pvs/pvs/pkg/seed"
)

// Ops runs the verbs on one deployment: its queues, and, for the verbs
// that need them, its registrar and seeder.
type Ops struct {
	Queue *queue.Client
	// Prefix is the Redis key prefix, named in messages about unknown
	// items (an item queued under another prefix is unknown here).
	Prefix string
	// Deregister removes a product now; nil: only deregistration through
	// deregister_queue is available.
	Deregister DeregisterFunc
	// Seeder seeds and truncates the tile cache now; nil: not available.
	Seeder *seed.Seeder
}

// DeregisterFunc removes one product from the catalogue, its objects and
// the cached tiles it shows on (register.Registrar.Deregister).
type DeregisterFunc func(ctx context.Context, identifier string) error

// ErrUnavailable is returned by a verb whose backend this Ops lacks.
var ErrUnavailable = errors.New("not available here")

// InputError is a request the operator has to correct: the command line
// names the flag, the API answers 400 and names the field.
type InputError struct {
	Field string // the flag or JSON field at fault; empty: the request as a whole
	Msg   string
}

func (e *InputError) Error() string {
	if e.Field == "" {
		return e.Msg
	}
	return e.Field + ": " + e.Msg
}

func invalid(field, format string, args ...any) error {
	return &InputError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// IsInput reports whether err is (or wraps) an InputError.
func IsInput(err error) bool {
	var ie *InputError
	return errors.As(err, &ie)
}

// Exit codes of `pvs status ITEM...`, so that a script can tell an item
// that does not exist (a typo, another prefix) from one that failed without
// parsing the output. With several items the highest code wins.
const (
	ExitUnknown = 3 // an item was never queued under this prefix
	ExitFailed  = 4 // an item failed in some stage (it is in a failure set)
)

// ExitError is an error that ends pvs with a code of its own instead of 1.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the process's exit status for this error.
func (e *ExitError) ExitCode() int { return e.Code }

// StageNamed returns the stage called name.
func StageNamed(name string) (queue.Stage, error) {
	for _, s := range queue.Stages {
		if s.Name == name {
			return s, nil
		}
	}
	return queue.Stage{}, fmt.Errorf("unknown stage %q (want preprocess, register, seed or deregister)", name)
}

// Glob compiles an item pattern: * matches any run of characters, slashes
// included (items are object paths), ? any one character; everything
// else matches itself. An empty pattern matches everything.
func Glob(pattern string) (*regexp.Regexp, error) {
	if pattern == "" {
		pattern = "*"
	}
	var b strings.Builder
	b.WriteString("^")
	for _, r := range pattern {
		switch r {
		case '*':
			b.WriteString(".*")
		case '?':
			b.WriteString(".")
		default:
			b.WriteString(regexp.QuoteMeta(string(r)))
		}
	}
	b.WriteString("$")
	return regexp.Compile(b.String())
}
