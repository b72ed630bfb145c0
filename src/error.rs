//! Errors that cross module boundaries and the one place they map to a SIP status, the side at
//! fault and a metric reason (pure).
