"""The vetting audit log: an append-only table whose entries are chained by HMAC-SHA256.

``chain`` is the pure part (canonical encoding, MACs, verification over plain values);
``services`` appends entries inside the caller's transaction and verifies the stored chain.
The key comes from the environment (``AUDIT_HMAC_KEY``), never from the database, so whoever can
write to the database still cannot forge or re-chain entries without it.
"""
