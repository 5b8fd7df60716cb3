// Package duckcheck reads Parquet files with DuckDB, an implementation
// independent of the ones signalab writes and reads with, for tests that
// must show a file is readable by other tools. DuckDB runs through Node.js
// and the npm package @duckdb/node-api; tests skip when either is missing.
//
// Install once, anywhere, and point SIGNALAB_DUCKDB_NODE_PATH at the
// node_modules folder:
//
//	npm install --prefix /opt/duckdb-node @duckdb/node-api
//	export SIGNALAB_DUCKDB_NODE_PATH=/opt/duckdb-node/node_modules
package duckcheck

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// EnvVar names the node_modules folder holding @duckdb/node-api.
const EnvVar = "SIGNALAB_DUCKDB_NODE_PATH"

// script runs one SQL statement and prints its rows as JSON.
const script = `
const {DuckDBInstance} = require('@duckdb/node-api');
(async () => {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  const r = await c.runAndReadAll(process.argv[1]);
  process.stdout.write(JSON.stringify(r.getRowObjectsJson()));
})().catch(e => { process.stderr.write(String(e && e.message || e)); process.exit(3); });
`

// Available reports whether DuckDB can be run, and why not.
func Available() (bool, string) {
	dir := os.Getenv(EnvVar)
	if dir == "" {
		return false, EnvVar + " is not set (npm install --prefix DIR @duckdb/node-api; export " + EnvVar + "=DIR/node_modules)"
	}
	if _, err := os.Stat(filepath.Join(dir, "@duckdb", "node-api")); err != nil {
		return false, fmt.Sprintf("%s=%s has no @duckdb/node-api", EnvVar, dir)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return false, "node is not installed"
	}
	return true, ""
}

// Query runs sql in DuckDB and returns its rows (values as DuckDB's JSON
// rendering). It skips the test when DuckDB is not available; a query error
// is returned (the file could not be read).
func Query(t testing.TB, sql string) ([]map[string]any, error) {
	t.Helper()
	if ok, why := Available(); !ok {
		t.Skip("DuckDB not available: " + why)
	}
	cmd := exec.Command("node", "-e", script, sql)
	cmd.Env = append(os.Environ(), "NODE_PATH="+os.Getenv(EnvVar))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("duckdb: %s: %v", strings.TrimSpace(errb.String()), err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil {
		return nil, fmt.Errorf("duckdb output %q: %w", out.String(), err)
	}
	return rows, nil
}

// ReadAll reads every row and column of a Parquet file with DuckDB (every
// string is decoded, which fails on invalid UTF-8) and returns the row count.
func ReadAll(t testing.TB, path string) (int, error) {
	t.Helper()
	rows, err := Query(t, fmt.Sprintf("select * from read_parquet('%s')", strings.ReplaceAll(path, "'", "''")))
	return len(rows), err
}
