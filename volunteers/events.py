"""Signals the volunteers package sends, so vetting can react without volunteers importing vetting.

Receivers run inside the sender's transaction (they get its session and must not commit): the
application and the review it opens are saved together, or not at all.
"""

from blinker import Namespace

_signals = Namespace()

# sender: the Volunteer; kwargs: session
application_submitted = _signals.signal("application-submitted")
# sender: the CircumstanceReport; kwargs: session
circumstances_reported = _signals.signal("circumstances-reported")
