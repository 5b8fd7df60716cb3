//go:build unix && !linux

package embedded

// mapPopulate is 0 where mmap cannot fault the pages in at once.
const mapPopulate = 0
