"""The standalone console: a thin Django project that installs aiadmin's apps the way the
README tells any host to (README, "Add aiadmin to your Django project")."""
