package xmltext

import "testing"

func TestEscape(t *testing.T) {
	if got := Escape(`a<b & "c" 'd'>`); got != "a&lt;b &amp; &#34;c&#34; &#39;d&#39;&gt;" {
		t.Errorf("got %s", got)
	}
}
