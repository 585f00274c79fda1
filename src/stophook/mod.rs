//! What a stop hook asks: the blocking items in scope, their count and
//! fingerprint, the guidance document, and the circuit breaker.
