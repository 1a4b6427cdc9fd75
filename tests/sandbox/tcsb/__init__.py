"""tcsb: the modules behind tests/sandbox/tcsandbox (a local Tencent Cloud API sandbox)."""
