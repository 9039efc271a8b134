"""`ledighed demo`: a year of generated messages played through the service. The generator
and the playback are here, not in tools/, because the installed command imports them."""
