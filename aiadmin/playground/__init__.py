"""Files the playgrounds produce (generated images and speech), kept per admin."""
