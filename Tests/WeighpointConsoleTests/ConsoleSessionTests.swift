import PropertyBased
import Testing
@testable import WeighpointConsole
import WeighpointCore

@Suite struct ConsoleLoginTests {
    @Test func loginWithTheRightPINOnly() {
        let host = TestHost()
        let t = Terminal(host)
        #expect(t.screen.contains("login: "))
        t.type("li")
        let pinPrompt = t.type("0000")
        #expect(pinPrompt.contains("Login incorrect"))
        #expect(t.session.user == nil)
        t.type("li")
        let ok = t.type(testPIN)
        #expect(ok.contains("Logged in as li (李工)"))
        #expect(t.session.user?.name == "li")
        #expect(host.events == ["console_login_failed", "console_login"])
        #expect(!t.screen.contains(testPIN), "the PIN is never echoed")
        #expect(!host.audit.contains { ($0.new ?? "").contains(testPIN) })
    }

    @Test func lockoutGrowsWithEachFailure() {
        let host = TestHost()
        let t = Terminal(host) { $0.lockoutAfter = 3; $0.lockoutSeconds = 30 }
        for _ in 0..<2 { t.type("li"); t.type("bad") }
        t.type("li")
        #expect(t.type("bad").contains("locked for 30 s after 3 failed logins"))
        // Locked: not even the PIN is asked for, right or wrong.
        #expect(t.type("li").contains("try again in 30 s"))
        t.wait(29)
        #expect(t.type("li").contains("try again in 1 s"))
        t.wait(2)
        t.type("li")
        #expect(t.type("bad").contains("locked for 60 s after 4 failed logins"), "each further failure doubles the lock")
        t.wait(61)
        t.type("li")
        #expect(t.type(testPIN).contains("Logged in"))
        t.type("logout")
        // A successful login resets the count: one failure does not lock.
        t.type("li")
        #expect(!t.type("bad").contains("locked"))
        #expect(host.events.filter { $0 == "console_lockout" }.count == 2)
    }

    @Test func aRestartKeepsTheFailuresAndTheLock() {
        let host = TestHost()
        let t = Terminal(host) { $0.lockoutAfter = 3; $0.lockoutSeconds = 30 }
        for _ in 0..<3 { t.type("li"); t.type("bad") }
        #expect(host.lockout.failures == 3)
        #expect(host.lockout.lockedUntil == host.clock.adding(microseconds: 30_000_000))
        // The unit restarts 10 s later (a new session, its monotonic clock from zero): still
        // locked for the rest, and the next failure locks for twice as long.
        host.clock = host.clock.adding(microseconds: 10_000_000)
        let after = Terminal(host) { $0.lockoutAfter = 3; $0.lockoutSeconds = 30 }
        #expect(after.type("li").contains("locked after 3 failed logins: try again in 20 s"))
        after.wait(21)
        host.clock = host.clock.adding(microseconds: 21_000_000)
        after.type("li")
        #expect(after.type("bad").contains("locked for 60 s after 4 failed logins"))
        // A successful login clears what is kept.
        host.clock = host.clock.adding(microseconds: 61_000_000)
        after.wait(61)
        after.type("li")
        #expect(after.type(testPIN).contains("Logged in"))
        #expect(host.lockout == ConsoleLockout())
        // A lock far in the future (the clock was stepped back) lasts at most the longest lock.
        host.lockout = ConsoleLockout(failures: 9, lockedUntil: host.clock.adding(microseconds: 86_400_000_000))
        let stepped = Terminal(host) { $0.lockoutAfter = 3; $0.lockoutMaxSeconds = 3600 }
        #expect(stepped.type("li").contains("try again in 3600 s"))
    }

    @Test func unknownNamesFailLikeWrongPINs() {
        let host = TestHost()
        let t = Terminal(host)
        t.type("mallory")
        #expect(t.type(testPIN).contains("Login incorrect"))
        t.type("x y/../z")
        t.type("1")
        #expect(host.audit.map(\.who) == ["mallory", "(not a valid name)"])
    }

    @Test func idleSessionsAreLoggedOut() {
        let host = TestHost()
        let t = Terminal(host) { $0.idleLogoutSeconds = 600 }
        t.login()
        t.wait(599)
        #expect(t.session.user != nil)
        #expect(t.wait(2).contains("logged out: no input for 10 min"))
        #expect(t.session.user == nil)
        #expect(host.audit.last?.event == "console_logout")
        #expect(host.audit.last?.new == "idle 600 s")
        #expect(t.type("status").contains("PIN: "), "after logout a line is a login name again")
    }

    @Test func statusBeforeLoginOnlyWhenAllowed() {
        let closed = Terminal(TestHost())
        closed.type("status")
        #expect(closed.screen.hasSuffix("PIN: "), "without the setting 'status' is taken as a name")
        let open = Terminal(TestHost()) { $0.statusBeforeLogin = true }
        let s = open.type("status")
        #expect(s.contains("sha256      " + String(repeating: "ab", count: 32)))
        #expect(open.type("audit").contains("PIN: "), "audit is not allowed before login: it is taken as a name")
        open.send([3])
        let h = open.type("help")
        #expect(h.contains("status") && !h.contains("cal set"), "help before login lists only what works")
    }

    @Test func aLostConnectionLogsOut() {
        let host = TestHost()
        let t = Terminal(host)
        t.login()
        t.session.disconnected(now: t.time)
        #expect(t.session.user == nil)
        #expect(host.audit.last?.new == "connection lost")
        #expect(String(decoding: t.session.start(now: t.time), as: UTF8.self).contains("login: "))
    }
}

@Suite struct ConsoleCommandTests {
    @Test func calSetNeedsYes() {
        let host = TestHost()
        let t = Terminal(host)
        t.login()
        let q = t.type("cal set 1 speed 40-45 axles 1+2+3 0.9870")
        #expect(q.contains("lane 1, 40-45 km/h, axles 1+2+3: none -> 0.9870 (its weighings get 1.0000 now, uncalibrated: -1.30 %)"))
        #expect(q.hasSuffix("Type yes to apply, anything else cancels: "))
        #expect(t.type("y").contains("not applied, nothing changed"))
        #expect(host.profile.factors.isEmpty)
        t.type("cal set 1 speed 40-45 axles 1+2+3 0.9870")
        #expect(t.type("yes").contains("applied and recorded in the audit trail"))
        let cell = CalibrationCell(lane: 1, speedFromKmh: 40, axles: AxleConfiguration(groups: [1, 2, 3]))
        #expect(host.profile.factors == [cell: CalibrationFactor(tenThousandths: 9870)])
        #expect(host.audit.last?.parameter == "calibration factor lane 1, 40-45 km/h, axles 1+2+3")
        #expect(host.audit.last?.old == "none" && host.audit.last?.new == "0.9870")
        // Changing it again shows the old value and the change.
        #expect(t.type("cal set 1 speed 40-45 axles 1+2+3 0.9900").contains("0.9870 -> 0.9900 (+0.30 %)"))
        t.type("no")
        // Clearing says what its weighings fall back to.
        t.type("cal set 1 1.0100")
        t.type("yes")
        #expect(t.type("cal clear 1 speed 40-45 axles 1+2+3").contains("0.9870 -> none (its weighings then get 1.0100 from lane 1, all speeds, all axle configurations)"))
        t.type("yes")
        #expect(host.profile.factors == [CalibrationCell(lane: 1): CalibrationFactor(tenThousandths: 10100)])
    }

    @Test(arguments: [
        ("cal set 3 1.0", "no lane '3'"), ("cal set 1 speed 42-47 1.0", "not a speed band"), ("cal set 1 speed 40-45", "usage: cal set"),
        ("cal set 1 axles 1+x 1.0", "not an axle configuration"), ("cal set 1 1.5", "outside 0.8000-1.2000"), ("cal set 1 0.98765", "not a factor"),
        ("cal set 1 speed 40-45 0.99 1.01", "usage: cal set"), ("cal clear 1", "has no factor"), ("tolerance set 25", "usage: tolerance set"),
        ("tolerance set 5 9000", "not a mass"), ("cal set 1 speed 40-45 55555555555555555555555", "not a factor"),
        ("tolerance set 92233720368547758", "usage: tolerance set"), ("cal set 1 speed 40--45 1.0", "not a speed band"),
        ("cal set 1 speed 9223372036854775800-9223372036854775805 1.0", "not a speed band"), ("live 7", "no lane '7'"), ("audit -1", "not a count"), ("cal", "cal needs one of"),
    ])
    func mistakesAreAnsweredAndChangeNothing(_ line: String, _ answer: String) {
        let host = TestHost()
        let t = Terminal(host)
        t.login()
        let out = t.type(line)
        #expect(out.contains(answer), "\(line) → \(out)")
        #expect(out.hasSuffix("WP-T li> "), "back at the prompt")
        #expect(host.profile == CalibrationProfile())
    }

    @Test func typeAheadCannotConfirmAChange() {
        let host = TestHost()
        let t = Terminal(host)
        t.login()
        // A paste of the command and its answer: the answer was typed before the question.
        let out = t.type("cal set 1 1.0200\ryes")
        #expect(out.contains("(what was typed ahead of the question was discarded)"))
        #expect(host.profile.factors.isEmpty)
        #expect(out.hasSuffix("Type yes to apply, anything else cancels: "))
        t.type("yes")
        #expect(host.profile.factors[CalibrationCell(lane: 1)] == CalibrationFactor(tenThousandths: 10200))
    }

    @Test func aRefusedChangeIsReportedAndNothingChanges() {
        let host = TestHost()
        host.auditCapacity = 1  // the login took the last entry
        let t = Terminal(host)
        t.login()
        t.type("tolerance set 2.5 100")
        let out = t.type("yes")
        #expect(out.contains("NOT applied: audit trail full"))
        #expect(host.profile.tolerance == nil)
        #expect(t.type("tolerance").contains("5% + 0 kg"))
    }

    @Test func aProfileChangedMeanwhileIsNotOverwritten() {
        let host = TestHost()
        let t = Terminal(host)
        t.login()
        t.type("cal set 2 0.9900")
        host.sha = String(repeating: "f", count: 64)  // another change landed before the yes
        #expect(t.type("yes").contains("NOT applied: the calibration changed meanwhile"))
        #expect(host.profile.factors.isEmpty)
    }

    @Test func floodsAreCutShort() {
        let host = TestHost()
        let t = Terminal(host) { $0.linesPerBurst = 16 }
        t.login()
        let out = t.send(Array(String(repeating: "time\r", count: 200).utf8))
        #expect(out.components(separatedBy: "UTC         ").count - 1 == 16)
        #expect(out.contains("input flood: 920 more bytes discarded"))
        #expect(t.type("time").contains("UTC "), "the console answers again after the flood")
    }

    @Test func helpForEveryCommand() {
        let t = Terminal(TestHost())
        t.login()
        for c in ConsoleSession.commands {
            let out = t.type("help \(c.name)")
            #expect(out.contains("usage: \(c.usage)"), "help \(c.name)")
        }
        let list = t.type("help")
        for line in list.split(separator: "\r\n") { #expect(line.count < 80, "help line wider than a terminal: \(line)") }
        #expect(t.type("help cal").components(separatedBy: "usage: cal").count - 1 == 4)
    }

    @Test func statusTimeRecordsAudit() {
        let host = TestHost()
        host.stored = [ConsoleRecordLine(seq: 7, time: "2026-12-01T15:59:00.000Z", lane: 1, plate: "苏E12345", grossKg: 51230, decision: "overload", delivered: true)]
        let t = Terminal(host)
        t.login()
        let s = t.type("status")
        #expect(s.contains("uptime      1 h 1 min"))
        #expect(s.contains("clock       synchronised, maximum error 12 ms"))
        #expect(s.contains("camera      front-1    capturing, 10 frames"))
        #expect(s.contains("lane 1, 2 uncalibrated"))
        #expect(t.type("time").contains("Beijing     2026-12-02 00:00:00 (UTC+8)"))
        #expect(t.type("records").contains("#7 2026-12-01T15:59:00.000Z lane 1 苏E12345   51230 kg overload  delivered"))
        #expect(t.type("audit 1").contains("li console_login console: ok"))
        let l = t.type("limits show")
        #expect(l.contains("6+-axle combination, single drive axle   46000 kg"))
        #expect(l.contains("Tolerance deducted before comparing: 5% + 0 kg"))
    }
}

@Suite struct ConsoleLiveAndReferenceTests {
    /// A pass of the reference truck as the controller reports it, corrected by `profile`.
    func pass(_ seq: UInt64, lane: Int = 1, speed: Double, axles: [Int], profile: CalibrationProfile) -> Weighing {
        let w = Weighing(
            seq: seq, lane: lane, time: Timestamp(rfc3339: "2026-12-01T16:00:00.000Z")!.adding(microseconds: Int64(seq) * 10_000_000), speedKmh: speed,
            body: .combination, driveAxles: 2, axles: axles.map { Axle(kg: $0, tyres: .dual) },
            groups: axles.count == 6 ? [1, 2, 3] : Array(repeating: 1, count: axles.count), reportedGrossKg: axles.reduce(0, +))
        return profile.apply(to: w, profileSHA256: "p")
    }

    @Test func liveViewShowsWeighingsUntilAKey() {
        let host = TestHost()
        let t = Terminal(host)
        t.login()
        #expect(t.type("live 2").contains("live view of lane 2"))
        host.feed.publish(.weighed(pass(1, lane: 1, speed: 50, axles: [7000, 9000, 9000, 8000, 8000, 8000], profile: host.profile)))
        host.feed.publish(.weighed(pass(2, lane: 2, speed: 50.04, axles: [7000, 9000, 9000, 8000, 8000, 8000], profile: host.profile)))
        let out = t.wait(0.1)
        #expect(!out.contains("#1 "), "lane 1 is not shown in a lane 2 view")
        #expect(out.contains("00:00:20 lane 2 #2 50.0 km/h 6 axles 49000 kg x1.0000 valid"))
        #expect(t.wait(700).isEmpty || !t.screen.contains("logged out"), "watching is not idling")
        #expect(t.type("x", enter: false).contains("(live view ended)"))
        host.feed.publish(.weighed(pass(3, lane: 2, speed: 50, axles: [7000, 9000, 9000, 8000, 8000, 8000], profile: host.profile)))
        #expect(!t.wait(0.1).contains("#3"))
    }

    @Test func referenceRunProposesAndAppliesFactors() throws {
        let host = TestHost()
        let t = Terminal(host)
        t.login()
        #expect(t.type("cal reference 1 passes 10").hasSuffix("front first: "))
        #expect(t.type("6500").contains("give 2 to 12 axle loads"), "one load is asked again")
        #expect(t.send([3]).contains("reference run abandoned, nothing changed"))
        t.type("cal reference 1 passes 10")
        #expect(t.type("6500 10000 10000 7000 7000 7000").contains("static gross 47500 kg"))
        // The sensor reads 4 % heavy at 41 km/h and 2 % heavy at 61; other traffic passes too;
        // the technician rejects the fourth pass.
        let reference = [6500, 10000, 10000, 7000, 7000, 7000]
        var seq: UInt64 = 1
        for i in 0..<11 {
            let heavy = i % 2 == 0 ? 1.04 : 1.02
            host.feed.publish(.weighed(pass(seq, speed: i % 2 == 0 ? 41 : 61, axles: reference.map { Int((Double($0) * heavy).rounded()) }, profile: host.profile)))
            host.feed.publish(.weighed(pass(seq + 1, speed: 50, axles: [7000, 9000], profile: host.profile)))
            seq += 2
            t.wait(0.1)
            if i == 3 { #expect(t.type("r", enter: false).contains("pass #7 rejected; 3/10 passes")) }
        }
        let out = t.screen
        #expect(out.contains("ignored #2: 2 axles, the reference vehicle has 6"))
        #expect(out.contains("pass 1/10 #1 41.0 km/h controller 49400 kg x1.0000 = 49400 kg, error +4.00 %, worst axle 1 +4.00 %"))
        #expect(out.contains("10 passes: mean error +3.20 %, spread 1.03 % (1 s.d.), from +2.00 % to +4.00 %"))
        // 47500/49400 = 0.9615 at 40-45 km/h, 47500/48450 = 0.9804 at 60-65, their mean 0.9691.
        #expect(out.contains("none -> 0.9691 ± 0.0031 (10 passes)"))
        #expect(out.contains("none -> 0.9615 ± 0.0000 (6 passes)"))
        #expect(out.contains("none -> 0.9804 ± 0.0000 (4 passes)"))
        #expect(out.hasSuffix("Apply [a]ll 3 factors, [o]nly the all-speeds factor, or [n]one? "))
        t.type("a")
        #expect(t.type("yes").contains("applied"))
        #expect(host.profile.factors[CalibrationCell(lane: 1)] == CalibrationFactor(tenThousandths: 9691))
        #expect(host.profile.factors[CalibrationCell(lane: 1, speedFromKmh: 40)] == CalibrationFactor(tenThousandths: 9615))
        #expect(host.profile.factors[CalibrationCell(lane: 1, speedFromKmh: 60)] == CalibrationFactor(tenThousandths: 9804))
        #expect(host.references.first?.passes.count == 10)
        #expect(host.audit.filter { $0.event == "calibration_change" }.count == 3)
        // With the factors in force, the same sensor now reads the static weights.
        let corrected = pass(99, speed: 41, axles: reference.map { Int((Double($0) * 1.04).rounded()) }, profile: host.profile)
        #expect(abs(corrected.grossKg - 47500) <= 5)
    }

    @Test func tooFewPassesProposeNothing() {
        let host = TestHost()
        let t = Terminal(host)
        t.login()
        t.type("cal reference 2 passes 3")
        t.type("7000 11000")
        host.feed.publish(.weighed(pass(1, lane: 2, speed: 50, axles: [7100, 11100], profile: host.profile)))
        t.wait(0.1)
        #expect(t.type("q", enter: false).contains("too few to propose anything; nothing changed"))
        #expect(host.profile.factors.isEmpty)
    }

    /// Fuzzing the whole session: random bytes from a noisy line, before and after login, with
    /// weighings arriving. Nothing crashes, the console keeps answering, nobody is logged in
    /// without the PIN, and nothing is changed without a "yes" the test never sends.
    @Test func noiseNeverCrashesLogsInOrChangesAnything() async {
        let noise = Gen<UInt8>.value(in: 0...255).array(of: 0...300).array(of: 1...12)
        await propertyCheck(count: 150, input: noise, Gen.bool) { bursts, loggedIn in
            let host = TestHost()
            let t = Terminal(host)
            if loggedIn { t.login() }
            for b in bursts {
                t.send(b.map { $0 == UInt8(ascii: "y") || $0 == UInt8(ascii: "Y") ? UInt8(ascii: "x") : $0 })  // no "yes" by chance
                host.feed.publish(.weighed(pass(1, speed: 50, axles: [7000, 9000], profile: host.profile)))
                t.wait(1)
            }
            if !loggedIn { #expect(t.session.user == nil) }
            #expect(host.profile == CalibrationProfile())
            // Ctrl-C, a key and Enter always bring back a prompt.
            t.send([3, 3, 0x71])
            let out = t.type("")
            #expect(out.hasSuffix("> ") || out.hasSuffix("PIN: ") || out.hasSuffix("login: "), "no prompt after \(out.debugDescription)")
        }
    }
}
