"""The ward team: the PCSOs and ward officers a sergeant keeps, who supervise volunteers on requests (issue #23)."""
