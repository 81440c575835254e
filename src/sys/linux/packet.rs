//! Packet capture on an interface: an AF_PACKET socket with a kernel (classic BPF) filter.
