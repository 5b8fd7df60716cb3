package embedded

import "golang.org/x/sys/unix"

// mapPopulate asks mmap to fault the pages in at once.
const mapPopulate = unix.MAP_POPULATE
