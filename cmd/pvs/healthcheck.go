package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/pvs/pvs/pkg/telemetry"
)

func newHealthcheckCmd() *cobra.Command {
	var timeout time.Duration
	var printBody bool
	cmd := &cobra.Command{
		Use:   "healthcheck URL",
		Short: "Exit 0 if URL answers with a 2xx status in time, else 1 with the reason (container health checks)",
		Long: `Ask URL with a GET and exit 0 on a 2xx answer within --timeout; otherwise
print why and exit 1. Container images need no curl for their HEALTHCHECK,
nor to read a daemon's metrics:

  pvs healthcheck http://127.0.0.1:8081/healthz
  pvs healthcheck :9100/readyz        (host 127.0.0.1, scheme http)
  pvs healthcheck --print :9100/metrics`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			answer, err := telemetry.Probe(cmd.Context(), args[0], timeout)
			if err != nil {
				return err
			}
			if printBody {
				_, err = cmd.OutOrStdout().Write(answer.Body)
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), answer)
			return nil
		},
	}
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "how long to wait for the answer")
	cmd.Flags().BoolVar(&printBody, "print", false, "print the body of a 2xx answer as it is (e.g. of /metrics)")
	return cmd
}
