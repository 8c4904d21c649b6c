package redis

import "strings"

// tagEscaper makes a tag free of braces, injectively: a tag holding '}'
// would end the hash tag early, and two different (tag, name) pairs could
// then build one key.
var tagEscaper = strings.NewReplacer(`\`, `\\`, `{`, `\(`, `}`, `\)`)

// HashTagged returns prefix + "{" + tag + "}" + name for each name, the
// tag escaped so that it holds no brace (and an empty tag made
// non-empty). Redis Cluster hashes only the
// tag, so all the keys share one slot and one multi-key command or Lua
// script may touch them together. Different (tag, name) pairs give
// different keys. The prefix must not contain braces (Open refuses such a
// prefix).
func HashTagged(prefix, tag string, names ...string) []string {
	esc := tagEscaper.Replace(tag)
	if esc == "" {
		// "{}" would make Cluster hash each whole key: no shared slot.
		// The escaper never writes a backslash before '-'.
		esc = `\-`
	}
	head := prefix + "{" + esc + "}"
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = head + n
	}
	return keys
}

// Keys returns h's keys for the names in the slot of tag: see HashTagged.
// They are distinct from every key Claim, Put and Take use, which never
// begin with a non-empty tag.
func (h *Hot) Keys(tag string, names ...string) []string {
	return HashTagged(h.prefix, tag, names...)
}
