"""Geography: BCUs, boroughs and wards."""
