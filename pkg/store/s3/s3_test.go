package s3_test

import (
	"bytes"
	"context"
	"os"
	"testing"

	"github.com/airbusgeo/godal"

	"github.com/pvs/pvs/internal/testenv"
	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/store"
	"github.com/pvs/pvs/pkg/store/s3"
	"github.com/pvs/pvs/pkg/store/storetest"
)

func TestConformance(t *testing.T) {
	testenv.Require(t)
	storetest.Run(t, func(t *testing.T) store.Store { return testenv.S3Bucket(t) })
}

func TestConformanceUnderPrefix(t *testing.T) {
	testenv.Require(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		b := testenv.S3Bucket(t)
		cfg := testenv.S3Config(bucketName(b))
		cfg.Prefix = "deployments/vhr18"
		s, err := s3.New(cfg)
		testenv.Must(t, err, "store")
		return s
	})
}

func bucketName(s *s3.Store) string {
	u := s.URL()
	return u[len("s3://") : len(u)-1]
}

// GDAL reads what the store wrote, through /vsis3/ with GDALConfig.
func TestGDALReadsTheSameObjects(t *testing.T) {
	st := testenv.S3Bucket(t)
	data, err := os.ReadFile("../../../testdata/rasters/RGBA.uint16.tif")
	testenv.Must(t, err, "read raster")
	testenv.Must(t, st.Put(context.Background(), "c/p/p.tif", bytes.NewReader(data)), "put")
	for k, v := range s3.GDALConfig(testenv.S3Config(bucketName(st))) {
		t.Setenv(k, v)
	}
	cog.Init()
	ds, err := godal.Open(st.GDALPath("c/p/p.tif"))
	testenv.Must(t, err, "GDAL open %s", st.GDALPath("c/p/p.tif"))
	defer ds.Close()
	if s := ds.Structure(); s.SizeX != 634 || s.SizeY != 411 || s.NBands != 4 {
		t.Fatalf("GDAL sees %dx%dx%d, want 634x411x4", s.SizeX, s.SizeY, s.NBands)
	}
	buf := make([]uint16, 634*411)
	testenv.Must(t, ds.Bands()[0].Read(0, 0, buf, 634, 411), "read pixels over S3")
}

func TestParseLocation(t *testing.T) {
	for _, c := range []struct {
		in   string
		want store.Location
		bad  bool
	}{
		{in: "var/data", want: store.Location{Scheme: "file", Path: "var/data"}},
		{in: "/abs/dir", want: store.Location{Scheme: "file", Path: "/abs/dir"}},
		{in: "file:///abs/dir", want: store.Location{Scheme: "file", Path: "/abs/dir"}},
		{in: "s3://bucket", want: store.Location{Scheme: "s3", Bucket: "bucket"}},
		{in: "s3://bucket/a/b/", want: store.Location{Scheme: "s3", Bucket: "bucket", Prefix: "a/b"}},
		{in: "s3:///nobucket", bad: true},
		{in: "gs://bucket", bad: true},
		{in: "", bad: true},
	} {
		got, err := store.ParseLocation(c.in)
		if (err != nil) != c.bad || (!c.bad && got != c.want) {
			t.Errorf("ParseLocation(%q) = %+v, %v", c.in, got, err)
		}
	}
}
