package event

import (
	"math/bits"
	"sync"
	"unsafe"
)

// poolAllocator is an Arrow memory.Allocator that recycles buffers through
// power-of-two size classes. Decoding a row group allocates the same buffer
// sizes batch after batch; recycling them instead of leaving them to the
// garbage collector cuts the reader's allocation rate by most of its volume.
// Buffers are 64-byte aligned and zeroed like Arrow's GoAllocator.
type poolAllocator struct {
	pools [48]sync.Pool
}

const allocAlign = 64

func sizeClass(n int) int { return bits.Len(uint(n - 1)) }

func (a *poolAllocator) Allocate(size int) []byte {
	if size <= 0 {
		return make([]byte, 0, allocAlign)
	}
	c := sizeClass(size)
	if v := a.pools[c].Get(); v != nil {
		b := (*v.(*[]byte))[:size]
		clear(b)
		return b
	}
	raw := make([]byte, 1<<c+allocAlign)
	off := 0
	if r := int(uintptr(unsafe.Pointer(unsafe.SliceData(raw))) % allocAlign); r != 0 {
		off = allocAlign - r
	}
	return raw[off : off+size : off+1<<c]
}

func (a *poolAllocator) Reallocate(size int, b []byte) []byte {
	if size <= cap(b) {
		old := len(b)
		b = b[:size]
		if size > old {
			clear(b[old:])
		}
		return b
	}
	nb := a.Allocate(size)
	copy(nb, b)
	a.Free(b)
	return nb
}

func (a *poolAllocator) Free(b []byte) {
	c := cap(b)
	if c == 0 || c&(c-1) != 0 { // not one of ours
		return
	}
	b = b[:c]
	a.pools[bits.Len(uint(c))-1].Put(&b)
}
