// Package stacks checks the Docker Swarm stack files: statically with the
// loader Docker Compose itself uses (schema, keys, values, references), and
// by deploying them on a single-node swarm (swarm_test.go, deploy_test.go;
// `make stack-test`).
package stacks

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"

	"github.com/pvs/pvs/pkg/config"
)

func load(t *testing.T, file, name string) *types.Project {
	t.Helper()
	root, _ := filepath.Abs("..")
	details := types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, file)}},
		Environment: map[string]string{"S3_ENDPOINT": "https://s3.example.org"},
	}
	p, err := loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.SetProjectName(name, true)
	})
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return p
}

func TestBaseStack(t *testing.T) {
	p := load(t, "stacks/base.yml", "base")
	tr, err := p.GetService("traefik")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tr.Image, "traefik:v3.") {
		t.Errorf("traefik image %q", tr.Image)
	}
	if tr.HealthCheck == nil {
		t.Error("traefik has no health check")
	}
	if n, ok := p.Networks["pvs-public"]; !ok || !bool(n.External) {
		t.Error("pvs-public must be an external network")
	}
}

func TestCollectionStacks(t *testing.T) {
	for _, c := range []struct{ file, name, config, collection string }{
		{"docker-compose.vhr18.yml", "vhr18", "config/vhr18.yaml", "VHR_IMAGE_2018"},
		{"docker-compose.emg.yml", "emg", "config/emg.yaml", "Emergency"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := load(t, c.file, c.name)
			for _, s := range []string{"redis", "database", "migrate", "preprocessor", "registrar", "seeder", "renderer", "cache"} {
				if _, err := p.GetService(s); err != nil {
					t.Errorf("service %s: %v", s, err)
				}
			}
			for _, s := range []string{"renderer", "cache"} {
				svc, _ := p.GetService(s)
				if svc.Deploy == nil || svc.Deploy.Labels["traefik.enable"] != "true" {
					t.Errorf("%s is not routed by Traefik", s)
				}
				if svc.HealthCheck == nil {
					t.Errorf("%s has no health check", s)
				}
				if _, ok := svc.Networks["pvs-public"]; !ok {
					t.Errorf("%s is not on the public network", s)
				}
				for k, v := range svc.Deploy.Labels {
					if strings.HasSuffix(k, ".rule") && !strings.Contains(v, "Host(`"+c.name+".") {
						t.Errorf("%s rule %q does not route this collection's host", s, v)
					}
				}
			}
			pre, _ := p.GetService("preprocessor")
			if pre.Deploy == nil || pre.Deploy.Replicas == nil || *pre.Deploy.Replicas < 2 {
				t.Error("the preprocessor should run replicas")
			}
			for _, s := range []string{"preprocessor", "registrar", "seeder", "renderer", "cache", "migrate"} {
				svc, _ := p.GetService(s)
				if svc.Command[0] != s && !(s == "migrate" && svc.Command[0] == "migrate") {
					t.Errorf("%s runs %v", s, svc.Command)
				}
				env := svc.Environment
				for _, k := range []string{"REDIS_URL", "DATABASE_URL", "S3_ACCESS_KEY_FILE", "S3_SECRET_KEY_FILE", "DATABASE_PASSWORD_FILE"} {
					if v, ok := env[k]; !ok || v == nil || *v == "" {
						t.Errorf("%s lacks %s", s, k)
					}
				}
				for k, v := range env {
					if v != nil && (strings.Contains(k, "SECRET") || strings.Contains(k, "PASSWORD")) && !strings.HasSuffix(k, "_FILE") {
						t.Errorf("%s puts a secret in the environment: %s", s, k)
					}
				}
			}
			production(t, p, c.name)
			// The collection config the stack ships is the one for its
			// collection, and it loads.
			cfg, ok := p.Configs[c.name+"-config"]
			if !ok || !strings.HasSuffix(cfg.File, c.config) || !strings.HasPrefix(cfg.Name, c.name+"-config-") {
				t.Fatalf("config %s-config = %+v", c.name, cfg)
			}
			cc, err := config.Load(cfg.File)
			if err != nil {
				t.Fatal(err)
			}
			if cc.Collection.Name != c.collection {
				t.Errorf("%s configures collection %s", c.file, cc.Collection.Name)
			}
			for _, s := range []string{c.name + "-s3-access-key", c.name + "-s3-secret-key", c.name + "-db-password", c.name + "-redis-password"} {
				if sec, ok := p.Secrets[s]; !ok || !bool(sec.External) {
					t.Errorf("secret %s must be external", s)
				}
			}
		})
	}
}

func TestDockerfileBuildsThePVSBinary(t *testing.T) {
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"./cmd/pvs", "libgdal-dev", "libgdal32", `ENTRYPOINT ["pvs"]`, "USER pvs"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("Dockerfile lacks %q", want)
		}
	}
}

// production checks what running in a swarm needs, service by service: no
// virtual IPs (dnsrr), stateful services pinned, health checks, grace
// periods longer than the daemons' own, resource reservations and limits.
func production(t *testing.T, p *types.Project, stack string) {
	t.Helper()
	for _, svc := range p.Services {
		d := svc.Deploy
		if d == nil || d.Resources.Limits == nil || d.Resources.Reservations == nil {
			t.Errorf("%s has no resource reservations and limits", svc.Name)
			continue
		}
		if svc.Name != "migrate" && svc.HealthCheck == nil {
			t.Errorf("%s has no health check", svc.Name)
		}
		if svc.StopGracePeriod == nil || time.Duration(*svc.StopGracePeriod) <= 30*time.Second {
			t.Errorf("%s: stop grace period %v is not longer than the 30 s shutdown grace", svc.Name, svc.StopGracePeriod)
		}
		if len(svc.Tmpfs) > 0 {
			t.Errorf("%s uses tmpfs:, which docker stack deploy drops", svc.Name)
		}
	}
	for _, name := range []string{"redis", "database", "renderer", "cache"} {
		svc, _ := p.GetService(name)
		if svc.Deploy.EndpointMode != "dnsrr" {
			t.Errorf("%s is reached by name and needs endpoint_mode dnsrr (no IPVS for virtual IPs)", name)
		}
	}
	for _, name := range []string{"redis", "database"} {
		svc, _ := p.GetService(name)
		if c := svc.Deploy.Placement.Constraints; len(c) == 0 || !strings.Contains(c[0], "node.labels."+stack+"-data") {
			t.Errorf("%s keeps state and must be pinned to a labelled node: %v", name, c)
		}
	}
	seeder, _ := p.GetService("seeder")
	r, _ := p.GetService("renderer")
	if a := r.Networks["internal"]; a == nil || len(a.Aliases) != 1 || a.Aliases[0] != stack+"-renderer" {
		t.Errorf("the renderer needs the alias %s-renderer on its stack's network: %+v", stack, a)
	}
	if v := seeder.Environment["PVS_RENDERER_URL"]; v == nil || !strings.Contains(*v, "//"+stack+"-renderer:8081") {
		t.Errorf("the seeder has no renderer URL in the swarm: %v", v)
	}
	if n := p.Networks["internal"]; !n.Attachable {
		t.Error("the internal network must be attachable for the CLI")
	}
	if v := p.Volumes["scratch"]; v.DriverOpts["type"] != "tmpfs" || !strings.Contains(v.DriverOpts["o"], "size=") {
		t.Errorf("the preprocessor's scratch volume is not sized: %+v", v)
	}
}
