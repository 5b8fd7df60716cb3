package parquetsafe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/parquet/file"
)

// Corruption is a damaged copy of a Parquet file, for tests and fuzz seeds.
type Corruption struct {
	Name string
	Data []byte
}

// CorruptionsOfFile returns the Corruptions of the Parquet file at path
// (the tests' committed log).
func CorruptionsOfFile(path string) ([]Corruption, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Corruptions(data)
}

// Corruptions returns damaged copies of a valid Parquet file, the damage a
// disk, a network copy or a hostile writer can do where the footer still
// reads: bytes flipped at several offsets of each column chunk's page
// headers (dictionary page and first data page), the second half of each
// column chunk zeroed (a page shorter than its header says), and the file
// cut in the middle of a column chunk with the footer appended again (page
// offsets beyond the end). Readers must turn each into an error or a read
// of valid rows, never a crash.
func Corruptions(data []byte) ([]Corruption, error) {
	pf, err := file.NewParquetReader(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	defer pf.Close()
	md := pf.MetaData()
	footerLen := int64(binary.LittleEndian.Uint32(data[len(data)-8:]))
	footer := data[int64(len(data))-8-footerLen:]
	var out []Corruption
	flip := func(name string, at int64) {
		if at <= 4 || at >= int64(len(data))-8-footerLen {
			return
		}
		c := bytes.Clone(data)
		c[at] ^= 0xff
		out = append(out, Corruption{Name: name, Data: c})
	}
	for rg := 0; rg < md.NumRowGroups(); rg++ {
		g := md.RowGroup(rg)
		for col := 0; col < g.NumColumns(); col++ {
			cc, err := g.ColumnChunk(col)
			if err != nil {
				return nil, err
			}
			path := cc.PathInSchema().String()
			start := cc.DataPageOffset()
			if cc.HasDictionaryPage() && cc.DictionaryPageOffset() > 0 && cc.DictionaryPageOffset() < start {
				start = cc.DictionaryPageOffset()
				for _, k := range []int64{0, 2, 5, 13} {
					flip(fmt.Sprintf("rg%d/%s/dictionary page header byte %d", rg, path, k), cc.DictionaryPageOffset()+k)
				}
			}
			for _, k := range []int64{0, 2, 5, 13} {
				flip(fmt.Sprintf("rg%d/%s/data page header byte %d", rg, path, k), cc.DataPageOffset()+k)
			}
			size := cc.TotalCompressedSize()
			if size > 2 && start+size <= int64(len(data)) {
				z := bytes.Clone(data)
				clear(z[start+size/2 : start+size])
				out = append(out, Corruption{Name: fmt.Sprintf("rg%d/%s/second half zeroed", rg, path), Data: z})
				cut := append(bytes.Clone(data[:start+size/2]), footer...)
				cut = append(cut, data[len(data)-8:]...)
				out = append(out, Corruption{Name: fmt.Sprintf("rg%d/%s/cut in the middle", rg, path), Data: cut})
			}
		}
	}
	return out, nil
}
