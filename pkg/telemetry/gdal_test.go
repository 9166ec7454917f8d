package telemetry_test

import (
	"testing"

	"github.com/pvs/pvs/pkg/telemetry"
)

func TestGDALBlockCacheGauges(t *testing.T) {
	t.Parallel()
	m := telemetry.New("renderer", "test")
	m.WatchGDAL()
	if max := value(t, m.Registry(), "pvs_gdal_block_cache_max_bytes", nil); max <= 0 {
		t.Errorf("GDAL block cache size %v, want > 0", max)
	}
	used := value(t, m.Registry(), "pvs_gdal_block_cache_used_bytes", nil)
	if used < 0 || used > value(t, m.Registry(), "pvs_gdal_block_cache_max_bytes", nil) {
		t.Errorf("GDAL block cache use %v, outside 0..max", used)
	}
}

func TestRenderBlockCacheMetrics(t *testing.T) {
	t.Parallel()
	m := telemetry.New("renderer", "test")
	m.WatchBlocks(func() (used, max, hits, misses int64) { return 3 << 20, 64 << 20, 41, 7 })
	for name, want := range map[string]float64{"pvs_render_block_cache_used_bytes": 3 << 20, "pvs_render_block_cache_max_bytes": 64 << 20,
		"pvs_render_block_cache_hits_total": 41, "pvs_render_block_cache_misses_total": 7} {
		if got := value(t, m.Registry(), name, nil); got != want {
			t.Errorf("%s = %v, want %v", name, got, want)
		}
	}
}

func TestIngestCounter(t *testing.T) {
	t.Parallel()
	m := telemetry.New("ingestor", "test")
	count := m.IngestCounter()
	count("watch:inbox", true)
	count("watch:inbox", true)
	count("http", false)
	if got := value(t, m.Registry(), "pvs_ingest_packages_total", map[string]string{"route": "watch:inbox", "result": "queued"}); got != 2 {
		t.Errorf("queued from watch:inbox = %v, want 2", got)
	}
	if got := value(t, m.Registry(), "pvs_ingest_packages_total", map[string]string{"route": "http", "result": "left_alone"}); got != 1 {
		t.Errorf("left alone from http = %v, want 1", got)
	}
}
