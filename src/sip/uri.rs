//! SIP, SIPS and tel URIs (pure): RFC 3261 §19.1, RFC 3966, RFC 5118 (IPv6 references).
