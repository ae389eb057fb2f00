// Command gob-corpus checks plugwire's encoding/gob (src/gob) against Go's own, both ways.
//
//	gob-corpus write DIR   writes DIR/<case>.gob for every case, each from a fresh process (so
//	                       type ids start where a fresh Go program's do), and DIR/corpus.json
//	gob-corpus check DIR   decodes DIR/<case>.ts.gob (written by TypeScript) with Go's decoder,
//	                       compares each value with the case's, prints one JSON report
//
// The cases are in cases.go; src/gob/corpus.test.ts declares the same ones in TypeScript.
package main

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: gob-corpus write|check DIR | gob-corpus one CASE DIR")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "write":
		err = writeAll(os.Args[2])
	case "one":
		if len(os.Args) < 4 {
			err = errors.New("one needs CASE and DIR")
		} else {
			err = writeOne(os.Args[2], os.Args[3])
		}
	case "check":
		err = checkAll(os.Args[2])
	default:
		err = fmt.Errorf("unknown mode %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gob-corpus:", err)
		os.Exit(1)
	}
}

func findCase(name string) (gobCase, error) {
	for _, c := range cases {
		if c.name == name {
			return c, nil
		}
	}
	return gobCase{}, fmt.Errorf("no case %q", name)
}

type described struct {
	Name          string   `json:"name"`
	File          string   `json:"file"`
	Bytes         int      `json:"bytes"`
	Values        int      `json:"values"`
	GoTypes       []string `json:"goTypes"`
	Kinds         []string `json:"kinds"`
	Deterministic bool     `json:"deterministic"`
	GoValues      []string `json:"goValues"`
}

// writeAll runs `one` for each case in its own process: Go's type ids are global to a process,
// and a fresh one allocates them as a fresh plugwire GobEncoder does.
func writeAll(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	var out []described
	for _, c := range cases {
		cmd := exec.Command(self, "one", c.name, dir)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("case %s: %w", c.name, err)
		}
		file := c.name + ".gob"
		info, err := os.Stat(filepath.Join(dir, file))
		if err != nil {
			return err
		}
		d := described{Name: c.name, File: file, Bytes: int(info.Size()), Kinds: c.kinds, Deterministic: c.deterministic}
		for _, v := range c.values() {
			d.Values++
			d.GoTypes = append(d.GoTypes, fmt.Sprintf("%T", v))
			d.GoValues = append(d.GoValues, short(fmt.Sprintf("%+v", deref(v))))
		}
		out = append(out, d)
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "corpus.json"), append(data, '\n'), 0o644)
}

func short(s string) string {
	if len(s) > 200 {
		return s[:200] + "…"
	}
	return s
}

func deref(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() {
		return rv.Elem().Interface()
	}
	return v
}

// writeOne encodes one case and checks that Go reads it back as the same values.
func writeOne(name, dir string) error {
	c, err := findCase(name)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	values := c.values()
	for i, v := range values {
		if err := enc.Encode(v); err != nil {
			return fmt.Errorf("value %d: %w", i, err)
		}
	}
	if problems := compare(buf.Bytes(), values); len(problems) > 0 {
		return fmt.Errorf("case %s does not round-trip in Go itself: %v", name, problems)
	}
	return os.WriteFile(filepath.Join(dir, name+".gob"), buf.Bytes(), 0o644)
}

// compare decodes data value by value into each expected value's type and reports mismatches.
// Values match when they are reflect.DeepEqual or encode to the same bytes (time.Time keeps its
// zone's name, which gob drops; a nil and an empty slice are the same to gob).
func compare(data []byte, values []any) []string {
	dec := gob.NewDecoder(bytes.NewReader(data))
	var problems []string
	for i, want := range values {
		wantValue := reflect.ValueOf(want)
		target := reflect.New(wantValue.Type())
		if wantValue.Kind() == reflect.Pointer {
			target = reflect.New(wantValue.Type().Elem())
			wantValue = wantValue.Elem()
		}
		if err := dec.DecodeValue(target); err != nil {
			problems = append(problems, fmt.Sprintf("value %d: %v", i, err))
			return problems
		}
		got := target.Elem()
		if !reflect.DeepEqual(got.Interface(), wantValue.Interface()) && !sameBytes(got, wantValue) {
			problems = append(problems, fmt.Sprintf("value %d: got %+v, want %+v", i, short(fmt.Sprintf("%+v", got.Interface())), short(fmt.Sprintf("%+v", wantValue.Interface()))))
		}
	}
	var extra any
	if err := dec.Decode(&extra); err != io.EOF {
		problems = append(problems, fmt.Sprintf("more than %d values in the stream (%v)", len(values), err))
	}
	return problems
}

func sameBytes(a, b reflect.Value) bool {
	encode := func(v reflect.Value) []byte {
		var buf bytes.Buffer
		p := reflect.New(v.Type())
		p.Elem().Set(v)
		if err := gob.NewEncoder(&buf).EncodeValue(p); err != nil {
			return nil
		}
		return buf.Bytes()
	}
	x, y := encode(a), encode(b)
	return x != nil && bytes.Equal(x, y)
}

type checked struct {
	Name     string   `json:"name"`
	OK       bool     `json:"ok"`
	Problems []string `json:"problems"`
}

// checkAll reads every <case>.ts.gob in dir that exists and prints the report as JSON.
func checkAll(dir string) error {
	var report []checked
	for _, c := range cases {
		data, err := os.ReadFile(filepath.Join(dir, c.name+".ts.gob"))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		problems := compare(data, c.values())
		report = append(report, checked{Name: c.name, OK: len(problems) == 0, Problems: problems})
	}
	return json.NewEncoder(os.Stdout).Encode(report)
}
