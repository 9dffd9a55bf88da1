"""``python3 dev.py bench [signing|http-issue|http-status|http-verify|oid4vci|oid4vp|soak|w3c-suites]``: medians and same-run ratios.

Every figure is compared with a reference measured in the same run (a pyld-only RDFC pipeline), because
these machines are noisy: only ratios measured together mean something.
"""

from __future__ import annotations

import sys


def main(argv: list[str]) -> int:
    which = argv[0] if argv else "signing"
    if which == "signing":
        from bench import signing

        return signing.main(argv[1:])
    if which == "http-issue":
        from bench import http_issue

        return http_issue.main(argv[1:])
    if which == "oid4vci":
        from bench import oid4vci

        return oid4vci.main(argv[1:])
    if which == "soak":
        from bench import soak

        return soak.main(argv[1:])
    if which == "http-status":
        from bench import http_status

        return http_status.main(argv[1:])
    if which in ("http-verify", "http"):
        from bench import http

        return http.main([which, *argv[1:]])
    if which == "oid4vp":
        from bench import oid4vp

        return oid4vp.main(argv[1:])
    if which == "w3c-suites":
        from bench import w3c_suites

        return w3c_suites.main(argv[1:])
    print(__doc__)
    return 2


raise SystemExit(main(sys.argv[1:]))
