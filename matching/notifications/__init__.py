"""What sergeants and volunteers are told, by email at once or in one daily digest."""
