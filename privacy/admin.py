"""Nothing of the privacy app is registered in the admin: retention rules are edited on
the audited retention pages by the data protection officer, runs are decided there, and
the deletion protocol is append-only (DOMAIN.md: the admin manages users and master data)."""
