//! Pure protocol types and translations.
