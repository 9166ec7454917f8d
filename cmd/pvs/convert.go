package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/cog"
)

// newCOGConvertCmd is the child process of the preprocessor's conversions:
// one job as JSON on stdin, the reason of a failure on stderr.
func newCOGConvertCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:    "cog-convert",
		Short:  "Convert one raster job (JSON on stdin) to a COG; used by the preprocessor",
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var j cog.Job
			dec := json.NewDecoder(os.Stdin)
			dec.DisallowUnknownFields()
			if err := dec.Decode(&j); err != nil {
				return fmt.Errorf("read job: %w", err)
			}
			initGDAL()
			cmd.SilenceErrors = true
			if err := j.Run(g.logger(false)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			return nil
		},
	}
}
