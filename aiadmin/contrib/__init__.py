"""Optional apps a host adds only if it wants what they change."""
