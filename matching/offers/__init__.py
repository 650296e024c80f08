"""Offers: booking volunteers onto requests, their answers, expiry and withdrawal, the emails about
them, and the volunteers' offer pages (blueprint ``offers``)."""
