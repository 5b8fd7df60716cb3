package signal

import (
	"encoding/json"
	"fmt"

	"github.com/signalab/signalab/event"
)

// stateVersion is the version of the serialised state format.
const stateVersion = 1

type stateJSON struct {
	Version  int             `json:"version"`
	ShopID   string          `json:"shop_id"`
	BuyerID  string          `json:"buyer_id"`
	Clock    int64           `json:"clock"`
	HasClock bool            `json:"has_clock"`
	Seen     []seenID        `json:"seen,omitempty"`
	Cart     cartSnapshot    `json:"cart"`
	Orders   []orderRecord   `json:"orders,omitempty"`
	Convs    []*conversation `json:"conversations,omitempty"`
}

// MarshalBinary serialises the buyer's key and state as versioned JSON
// (deterministic: the same state gives the same bytes). Parameters are not
// part of it: they are configuration, given again to NewBuyer on restore.
func (b *Buyer) MarshalBinary() ([]byte, error) {
	return json.Marshal(stateJSON{Version: stateVersion, ShopID: b.key.ShopID, BuyerID: b.key.BuyerID,
		Clock: b.st.Clock, HasClock: b.st.HasClock, Seen: b.st.Seen, Cart: b.st.Cart,
		Orders: b.st.Orders, Convs: b.st.Convs})
}

// UnmarshalBinary restores key and state written by MarshalBinary, keeping
// b's parameters. Use it on a Buyer from NewBuyer.
func (b *Buyer) UnmarshalBinary(data []byte) error {
	var j stateJSON
	if err := json.Unmarshal(data, &j); err != nil {
		return fmt.Errorf("restore buyer state: %w", err)
	}
	if j.Version != stateVersion {
		return fmt.Errorf("restore buyer state: version %d, want %d (state written by another signalab version)", j.Version, stateVersion)
	}
	b.key = event.BuyerKey{ShopID: j.ShopID, BuyerID: j.BuyerID}
	b.st = state{Clock: j.Clock, HasClock: j.HasClock, Seen: j.Seen, Cart: j.Cart, Orders: j.Orders, Convs: j.Convs}
	for i := range b.st.Seen {
		s := &b.st.Seen[i]
		s.tag = idTag(s.ID)
		if i == 0 || s.Time < b.st.seenMin {
			b.st.seenMin = s.Time
		}
	}
	if len(b.st.Seen) >= seenIndexMin {
		b.st.seenIdx = make(map[string]int64, 2*len(b.st.Seen))
		for _, s := range b.st.Seen {
			b.st.seenIdx[s.ID] = s.Time
		}
	}
	return nil
}
