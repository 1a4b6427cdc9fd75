"""TAP for Python tests run by prove.

    import tap
    t = tap.Tap(5)                 # prints 1..5
    t.ok(cond, "name", diag="shown on failure")
    t.eq(got, want, "name")        # failure shows both values
    t.like(text, "substring", "name")
    sys.exit(t.done())             # 0 only when every test passed and the plan was met
"""


class Tap:
    def __init__(self, planned=None):
        self.planned, self.count, self.failed = planned, 0, 0
        if planned is not None:
            print("1..%d" % planned, flush=True)

    def ok(self, cond, name, diag=None):
        self.count += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.count, name), flush=True)
        if not cond:
            self.failed += 1
            if diag is not None:
                self.diag(diag)
        return bool(cond)

    def eq(self, got, want, name):
        return self.ok(got == want, name, "got:  %r\nwant: %r" % (got, want))

    def like(self, text, sub, name):
        return self.ok(sub in (text or ""), name, "%r does not contain %r" % (text, sub))

    def diag(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("#   " + line, flush=True)

    def note(self, msg):
        for line in str(msg).splitlines() or [""]:
            print("# " + line, flush=True)

    def done(self):
        if self.planned is None:
            print("1..%d" % self.count, flush=True)
        elif self.count != self.planned:
            self.diag("planned %d tests but ran %d" % (self.planned, self.count))
            return 1
        return 1 if self.failed else 0
