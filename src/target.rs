//! Parse what users type as a target (stub, being written).
