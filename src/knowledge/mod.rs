//! General knowledge about ports and addresses (stub, being written).
