//! Lexical helpers shared by the SIP parsers (pure): RFC 3261 §25.1 character classes,
//! linear whitespace, quoted strings and top-level comma splitting.
