package zoom

import "context"

// ApplyPending applies what is stored, as Run does, until nothing is left:
// tests step the handler without a goroutine.
func (h *Events) ApplyPending(ctx context.Context) error {
	for {
		n, err := h.applyPending(ctx)
		if err != nil || n == 0 {
			return err
		}
	}
}
