package migrate

import (
	"errors"
	"testing"
	"testing/fstest"
)

func TestLoad(t *testing.T) {
	tests := []struct {
		name    string
		files   []string
		want    int
		wantErr bool
	}{
		{name: "ordered", files: []string{"m/0002_b.sql", "m/0001_a.sql", "m/README"}, want: 2},
		{name: "empty", files: nil, want: 0},
		{name: "gap", files: []string{"m/0001_a.sql", "m/0003_c.sql"}, wantErr: true},
		{name: "duplicate", files: []string{"m/0001_a.sql", "m/0001_b.sql"}, wantErr: true},
		{name: "zero", files: []string{"m/0000_a.sql"}, wantErr: true},
		{name: "bad name", files: []string{"m/1_a.sql"}, wantErr: true},
		{name: "no underscore", files: []string{"m/0001.sql"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := fstest.MapFS{"m": &fstest.MapFile{Mode: 0o755 | 1<<31}}
			for _, f := range tt.files {
				fsys[f] = &fstest.MapFile{Data: []byte("-- " + f)}
			}
			ms, err := Load(fsys, "m")
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Load: got %d migrations, want an error", len(ms))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) != tt.want {
				t.Fatalf("got %d migrations, want %d", len(ms), tt.want)
			}
			for i, m := range ms {
				if m.Version != i+1 || m.SQL != "-- m/"+m.Name {
					t.Errorf("migration %d: %+v", i, m)
				}
			}
		})
	}
}

func TestPending(t *testing.T) {
	ms := []Migration{{Version: 1}, {Version: 2}, {Version: 3}}
	for current, want := range []int{3, 2, 1, 0} {
		got, err := Pending(ms, current)
		if err != nil || len(got) != want {
			t.Errorf("Pending(%d): got %d, %v; want %d", current, len(got), err, want)
		}
	}
	_, err := Pending(ms, 4)
	var tooNew *TooNewError
	if !errors.As(err, &tooNew) || tooNew.Current != 4 || tooNew.Known != 3 {
		t.Fatalf("Pending(4): got %v, want a TooNewError", err)
	}
}
