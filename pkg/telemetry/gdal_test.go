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
