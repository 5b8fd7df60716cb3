package beamreplay

import (
	"encoding/binary"

	"github.com/signalab/signalab/event"
)

// Events cross the shuffle as packs: one value per buyer and split holding
// wire.Version followed by the buyer's wire records (package replay/wire,
// the encoding the embedded engine spills too; its documentation states
// the two uses' differences). See eventPacks.

// BuyerKeyString encodes a buyer key as the shuffle key: the shop id with its
// uvarint length prefix, then the buyer id. The prefix makes the encoding
// injective (no two different (shop_id, buyer_id) pairs share a key, whatever
// bytes the ids contain), which is all grouping needs.
func BuyerKeyString(k event.BuyerKey) string {
	b := make([]byte, 0, len(k.ShopID)+len(k.BuyerID)+binary.MaxVarintLen64)
	b = binary.AppendUvarint(b, uint64(len(k.ShopID)))
	b = append(b, k.ShopID...)
	b = append(b, k.BuyerID...)
	return string(b)
}
