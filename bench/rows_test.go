package main

import (
	"slices"
	"testing"
)

func TestRowsAreValid(t *testing.T) {
	all := rows()
	if len(all) == 0 || all[0].Name != baseRow || all[0].Config != "" {
		t.Fatalf("the first row must be %q, the bare proxy", baseRow)
	}
	if _, err := selectRows(all, ""); err != nil {
		t.Fatal(err)
	}
}

func TestSelectRows(t *testing.T) {
	all := []Row{{Name: "bare"}, {Name: "basic"}, {Name: "bare-post"}, {Name: "post", Base: "bare-post"}, {Name: "jwt"}}
	tests := []struct {
		spec string
		want []string
	}{
		{"", []string{"bare", "basic", "bare-post", "post", "jwt"}},
		{"basic", []string{"bare", "basic"}},
		{"bare", []string{"bare"}}, // an exact name is not a regexp: bare-post stays out
		{"post", []string{"bare", "bare-post", "post"}},
		{"^b", []string{"bare", "basic", "bare-post"}},
		{"jwt, basic", []string{"bare", "basic", "jwt"}},
	}
	for _, tt := range tests {
		got, err := selectRows(all, tt.spec)
		if err != nil {
			t.Errorf("selectRows(%q): %v", tt.spec, err)
			continue
		}
		if !slices.Equal(names(got), tt.want) {
			t.Errorf("selectRows(%q) = %v, want %v", tt.spec, names(got), tt.want)
		}
	}
	for _, bad := range []string{"nothing", "(", "basic,nope"} {
		if got, err := selectRows(all, bad); err == nil {
			t.Errorf("selectRows(%q) = %v, want an error", bad, names(got))
		}
	}
	if _, err := selectRows([]Row{{Name: "bare"}, {Name: "x", Base: "gone"}}, ""); err == nil {
		t.Error("a row with an unknown base was accepted")
	}
}

func TestRotate(t *testing.T) {
	rs := []Row{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	for k, want := range [][]string{{"a", "b", "c"}, {"b", "c", "a"}, {"c", "a", "b"}, {"a", "b", "c"}} {
		if got := names(rotate(rs, k)); !slices.Equal(got, want) {
			t.Errorf("rotate(%d) = %v, want %v", k, got, want)
		}
	}
}
