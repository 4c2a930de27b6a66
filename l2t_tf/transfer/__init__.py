"""What and where to transfer: matching pairs, losses, meta-networks."""
