package preprocess

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pvs/pvs/pkg/cog"
	"github.com/pvs/pvs/pkg/config"
	"github.com/pvs/pvs/pkg/metadata"
	"github.com/pvs/pvs/pkg/queue"
)

// declaredMeta is the sample's metadata naming productType and, when
// parent is set, a parentIdentifier.
func declaredMeta(t *testing.T, productType, parent string) string {
	t.Helper()
	b, err := os.ReadFile(sampleMeta)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(b), "<eop:productType>VHR_OPTICAL</eop:productType>", "<eop:productType>"+productType+"</eop:productType>", 1)
	if parent != "" {
		s = strings.Replace(s, "<eop:acquisitionType>", "<eop:parentIdentifier>"+parent+"</eop:parentIdentifier><eop:acquisitionType>", 1)
	}
	path := filepath.Join(t.TempDir(), "meta.xml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestProductTypeAsTheMetadataNamesIt(t *testing.T) {
	cog.Init()
	vhr := config.Collection{Name: "VHR_IMAGE_2018", ProductTypes: []config.ProductType{
		{Name: "VHR_OPTICAL", MetadataGlobs: []string{"*.xml"}, DataGlobs: []string{"*.tif"}},
		{Name: "PHR_FUS__2A", MetadataGlobs: []string{"*.xml"}, DataGlobs: []string{"*.tif"}},
		{Name: "PHR_MS___2A", MetadataGlobs: []string{"*.xml"}, DataGlobs: []string{"*.tif"}}}}
	cases := []struct {
		name, productType, parent string
		wantType, wantParent      string // accepted
		wantErr                   string // refused, permanently
	}{
		{"listed type, not the first", "PHR_MS___2A", "", "PHR_MS___2A", "VHR_IMAGE_2018", ""},
		{"listed type, series of the collection", "PHR_FUS__2A", "VHR_IMAGE_2018/PHR_FUS__2A", "PHR_FUS__2A", "VHR_IMAGE_2018/PHR_FUS__2A", ""},
		{"no productType: the first type whose globs match", "", "", "VHR_OPTICAL", "VHR_IMAGE_2018", ""},
		{"unlisted type", "DM02_RGB_1B", "", "", "",
			`product VHR18_SAMPLE_RGB_20180615 has product type "DM02_RGB_1B", which collection VHR_IMAGE_2018 does not list (it lists VHR_OPTICAL, PHR_FUS__2A, PHR_MS___2A)`},
		{"another collection", "DM02_RGB_1B", "Emergency/DM02_RGB_1B", "", "",
			"product VHR18_SAMPLE_RGB_20180615 belongs to collection Emergency (eop:parentIdentifier Emergency/DM02_RGB_1B), not VHR_IMAGE_2018"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, src, out, _ := setup(t)
			p.Collection = vhr
			ctx := context.Background()
			src.Put(ctx, "in/x.tar", bytes.NewReader(tarFiles(t, map[string]string{
				"RGB.byte.tif": "../../testdata/rasters/RGB.byte.tif", "meta.xml": declaredMeta(t, c.productType, c.parent)})))
			prefix, err := p.Handle(ctx, queue.Item{Queue: "preprocess_queue", Value: "in/x.tar"})
			if c.wantErr != "" {
				if err == nil || !queue.IsPermanent(err) || !strings.Contains(err.Error(), c.wantErr) {
					t.Fatalf("error %v, want a permanent one containing %q", err, c.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			id := prefix[strings.LastIndex(prefix, "/")+1:]
			rc, err := out.Get(ctx, prefix+"/"+id+".xml")
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			prod, err := metadata.ParseXML(rc)
			if err != nil {
				t.Fatal(err)
			}
			if prod.ProductType != c.wantType || prod.ParentIdentifier != c.wantParent || prod.Collection != "VHR_IMAGE_2018" {
				t.Errorf("GSC says type %q, parent %q, collection %q; want %q, %q, VHR_IMAGE_2018",
					prod.ProductType, prod.ParentIdentifier, prod.Collection, c.wantType, c.wantParent)
			}
			if prod.Properties["platform"] != "Landsat" || prod.Properties["platformSerialIdentifier"] != "7" {
				t.Errorf("platform %q serial %q, want Landsat 7", prod.Properties["platform"], prod.Properties["platformSerialIdentifier"])
			}
		})
	}
}

func TestStatisticsStoredBesideTheCOG(t *testing.T) {
	cog.Init()
	p, src, out, _ := setup(t)
	ctx := context.Background()
	src.Put(ctx, "in/x.tar", bytes.NewReader(tarFiles(t, map[string]string{
		"RGB.byte.tif": "../../testdata/rasters/RGB.byte.tif", "meta.xml": sampleMeta})))
	prefix, err := p.Handle(ctx, queue.Item{Queue: "preprocess_queue", Value: "in/x.tar"})
	if err != nil {
		t.Fatal(err)
	}
	id := prefix[strings.LastIndex(prefix, "/")+1:]
	rc, err := out.Get(ctx, prefix+"/"+id+".json")
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var d cog.Description
	if err := json.NewDecoder(rc).Decode(&d); err != nil {
		t.Fatal(err)
	}
	if len(d.Stats) != 3 || d.Width == 0 {
		t.Fatalf("description %+v: want the header and 3 bands of statistics", d)
	}
	for _, s := range d.Stats {
		if s.Valid == 0 || s.Min < 1 || s.Max > 255 || !(s.P2 <= s.Mean && s.Mean <= s.P98) || s.P98 <= s.P2 {
			t.Errorf("band %d statistics %+v: want valid pixels (nodata 0 left out), min ≤ p2 ≤ mean ≤ p98 ≤ max", s.Index, s)
		}
	}
}
