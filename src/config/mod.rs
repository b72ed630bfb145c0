//! Configuration (pure): the TOML model, defaults and validation.
