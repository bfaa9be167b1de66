"""What runs in front of the app in production: the buffering reverse proxy (nginx)."""
