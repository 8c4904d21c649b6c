package testenv

import "testing"

func TestPackageName(t *testing.T) {
	for spec, want := range map[string]string{
		"jose@6": "jose", "http-message-signatures@latest": "http-message-signatures",
		"paseto": "paseto", "@scope/pkg@1.2": "@scope/pkg", "@scope/pkg": "@scope/pkg",
	} {
		if got := packageName(spec); got != want {
			t.Errorf("packageName(%q) = %q, want %q", spec, got, want)
		}
	}
}
