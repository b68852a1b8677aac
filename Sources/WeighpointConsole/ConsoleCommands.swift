import WeighpointCore

/// A console command: how to call it, a line for the list, and the details `help NAME` shows.
struct ConsoleCommand {
    let name: String
    let usage: String
    let summary: String
    let details: [String]
    /// Works at the login prompt when configuration allows.
    var readOnly = false
}

extension ConsoleSession {
    static let commands: [ConsoleCommand] = [
        ConsoleCommand(name: "help", usage: "help [COMMAND]", summary: "the commands, or the details of one", details: [], readOnly: true),
        ConsoleCommand(
            name: "status", usage: "status", summary: "software identity, uptime, clock, WIM link, cameras, store, delivery, alarms",
            details: ["The executable's SHA-256 is the software identity every record carries (OIML D 31)."], readOnly: true),
        ConsoleCommand(
            name: "live", usage: "live [LANE]", summary: "weighings and decisions as they happen, until a key is pressed",
            details: ["Times are Beijing time. Weighings show the corrected gross and the factor used."]),
        ConsoleCommand(
            name: "cal show", usage: "cal show [LANE]", summary: "the calibration factors in force",
            details: ["The factor of the most specific cell applies: speed band and axles, speed band, axles, the lane.",
                      "A lane without any factor is uncalibrated (factor 1.0000)."]),
        ConsoleCommand(
            name: "cal set", usage: "cal set LANE [speed LO-HI] [axles CFG] FACTOR", summary: "set one factor (asks to confirm)",
            details: ["Example: cal set 1 speed 40-45 axles 1+2+3 0.9870",
                      "Speed bands are the profile's band width wide (5 km/h by default); CFG is axles per group.",
                      "Factors between 0.8000 and 1.2000. Shows old -> new, asks to confirm, records it in the audit trail."]),
        ConsoleCommand(
            name: "cal clear", usage: "cal clear LANE [speed LO-HI] [axles CFG]", summary: "remove one factor (asks to confirm)",
            details: ["The next less specific cell then applies."]),
        ConsoleCommand(
            name: "cal reference", usage: "cal reference LANE [passes N] [axles CFG] [per-axles]",
            summary: "reference-vehicle procedure: passes, errors, proposed factors",
            details: ["Declare the static axle loads of the reference vehicle (from its static weighing), then drive",
                      "it over the lane N times (10 by default). Each pass shows its error; at the end the mean error,",
                      "the spread and the proposed factors with their standard error. Nothing changes until you confirm.",
                      "per-axles: factors for the vehicle's axle configuration only, not for the whole lane.",
                      "While passes are collected: r rejects the last pass, q or Ctrl-C stops, Enter shows progress."]),
        ConsoleCommand(name: "limits show", usage: "limits show", summary: "the legal limits and the tolerance in force", details: []),
        ConsoleCommand(
            name: "tolerance set", usage: "tolerance set PERCENT [KG]", summary: "the tolerance deducted before comparing (asks to confirm)",
            details: ["Example: tolerance set 5 0   (5 % of the measured gross plus 0 kg). Percent 0-20, kg 0-5000."]),
        ConsoleCommand(name: "audit", usage: "audit [N]", summary: "the last N audit-trail entries (10)", details: []),
        ConsoleCommand(name: "records", usage: "records [N]", summary: "the last N records (10)", details: []),
        ConsoleCommand(name: "time", usage: "time", summary: "UTC and Beijing time, clock synchronisation", details: []),
        ConsoleCommand(name: "logout", usage: "logout", summary: "end the session", details: []),
    ]

    func run(_ text: String, readOnly: Bool = false) {
        let w = text.words
        guard let first = w.first else { return }
        let two = w.count > 1 ? "\(first) \(w[1])" : first
        if readOnly, !(Self.commands.contains { ($0.name == first || $0.name == two) && $0.readOnly }) {
            say("log in first")
            return
        }
        switch (first, w.dropFirst().first) {
        case ("help", _), ("?", _): help(Array(w.dropFirst()))
        case ("status", _): status()
        case ("time", _): time()
        case ("live", _): live(Array(w.dropFirst()))
        case ("cal", "show"?): calShow(Array(w.dropFirst(2)))
        case ("cal", "set"?): calSet(Array(w.dropFirst(2)))
        case ("cal", "clear"?): calClear(Array(w.dropFirst(2)))
        case ("cal", "reference"?): calReference(Array(w.dropFirst(2)))
        case ("limits", "show"?), ("limits", nil): limits()
        case ("tolerance", "set"?): toleranceSet(Array(w.dropFirst(2)))
        case ("tolerance", nil), ("tolerance", "show"?): say("tolerance \(host.tolerance())")
        case ("audit", _): audit(Array(w.dropFirst()))
        case ("records", _): records(Array(w.dropFirst()))
        case ("logout", _), ("exit", _), ("quit", _): logout("logout")
        case ("cal", _): say("cal needs one of: show, set, clear, reference (help cal set)")
        default: say("unknown command '\(first.prefix(40))': type help")
        }
    }

    // MARK: help

    func help(_ args: [String]) {
        if args.isEmpty {
            // Fits an 80-column terminal: a long usage gets its summary on the next lines.
            for c in Self.commands where user != nil || c.readOnly {
                let summary = Self.wrap(c.summary, width: 79 - 34)
                if c.usage.count > 31 {
                    say("  " + c.usage)
                    for l in summary { say(String(repeating: " ", count: 34) + l) }
                } else {
                    say("  " + c.usage.padded(32) + summary[0])
                    for l in summary.dropFirst() { say(String(repeating: " ", count: 34) + l) }
                }
            }
            return
        }
        // `help cal` shows every cal command; `help cal set` just that one.
        let name = args.prefix(2).joined(separator: " ")
        let matching = Self.commands.filter { $0.name == name || $0.name.hasPrefix(name + " ") }
        guard !matching.isEmpty else {
            say("no command '\(name.prefix(40))': type help")
            return
        }
        for c in matching {
            say("usage: \(c.usage)")
            say("  \(c.summary)")
            for d in c.details { say("  \(d)") }
        }
    }

    /// Words of `text` in lines of at most `width` columns.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = []
        var line = ""
        for w in text.words {
            if !line.isEmpty && line.count + 1 + w.count > width {
                lines.append(line)
                line = w
            } else {
                line = line.isEmpty ? w : line + " " + w
            }
        }
        return lines + [line]
    }

    // MARK: status and time

    func status() {
        let s = host.status()
        let now = host.now()
        say("software    weighpoint \(s.softwareVersion)")
        say("sha256      \(s.executableSHA256)")
        say("uptime      \(Self.duration(seconds: Double(s.startedAt.microseconds(to: now)) / 1e6)) (since \(s.startedAt))")
        say("clock       \(Self.clockText(synchronised: s.clockSynchronised, maxErrorUs: s.clockMaxErrorMicroseconds))")
        var wim = "wim         \(s.wim)"
        if let l = s.lastWeighing { wim += ", last weighing #\(l.seq) \(Self.duration(seconds: Double(l.time.microseconds(to: now)) / 1e6)) ago" }
        say(wim)
        if s.cameras.isEmpty { say("cameras     none configured") }
        for c in s.cameras { say("camera      \(c.id.padded(10)) \(c.state), \(c.frames) frames") }
        say("store       \(s.store), records held: \(s.records)\(s.newestRecord.map { ", newest #\($0)" } ?? "")")
        var d = "delivery    backlog \(s.deliveryBacklog)"
        if let age = s.oldestUnacknowledgedAgeSeconds, s.deliveryBacklog > 0 { d += ", oldest \(Self.duration(seconds: age))" }
        say(d)
        let (profile, sha) = host.calibration()
        let uncalibrated = host.lanes.filter { profile.cells(lane: $0).isEmpty }
        say("calibration \(sha.prefix(16))…, \(profile.factors.count) factors\(uncalibrated.isEmpty ? "" : ", lane \(uncalibrated.map(String.init).joined(separator: ", ")) uncalibrated")")
        say("tolerance   \(host.tolerance())")
        say("alarms      \(s.alarms.isEmpty ? "none" : s.alarms.joined(separator: "; "))")
    }

    func time() {
        let s = host.status()
        let t = host.now()
        say("UTC         \(t)")
        say("Beijing     \(Self.beijing(t, seconds: true)) (UTC+8)")
        say("clock       \(Self.clockText(synchronised: s.clockSynchronised, maxErrorUs: s.clockMaxErrorMicroseconds))")
        say("estimated   error \(Self.microseconds(s.clockEstimatedErrorMicroseconds))")
    }

    static func clockText(synchronised: Bool, maxErrorUs: Int) -> String {
        (synchronised ? "synchronised" : "NOT synchronised") + ", maximum error \(microseconds(maxErrorUs))"
    }

    static func microseconds(_ us: Int) -> String {
        us >= 1_000_000 ? "\(us / 1_000_000) s" : us >= 1000 ? "\(us / 1000) ms" : "\(us) µs"
    }

    static func duration(seconds: Double) -> String {
        let s = max(Int(seconds), 0)
        if s < 60 { return "\(s) s" }
        if s < 3600 { return "\(s / 60) min \(s % 60) s" }
        if s < 86_400 { return "\(s / 3600) h \(s / 60 % 60) min" }
        return "\(s / 86_400) d \(s / 3600 % 24) h"
    }

    /// `2026-12-01 16:40:02` (or `16:40:02`) in Beijing time.
    static func beijing(_ t: Timestamp, seconds: Bool = true, date: Bool = true) -> String {
        let s = t.beijingTime()
        let day = s.prefix(10), clock = s.dropFirst(11).prefix(seconds ? 8 : 5)
        return date ? "\(day) \(clock)" : String(clock)
    }

    // MARK: live

    func live(_ args: [String]) {
        var lane: Int?
        if let a = args.first {
            guard let n = Int(a), host.lanes.contains(n) else { say("no lane '\(a.prefix(10))': lanes are \(laneList)"); return }
            lane = n
        }
        let sub = host.subscribe()
        say("live view of \(lane.map { "lane \($0)" } ?? "all lanes") (Beijing time); press any key to stop")
        state = .live(lane: lane, sub)
    }

    func liveLine(_ e: LiveEvent, lane: Int?) {
        switch e {
        case .weighed(let w):
            guard lane == nil || w.lane == lane else { return }
            let invalid = w.invalidityReasons()
            let factor = w.calibration.map { " x\($0.factor)" } ?? ""
            say("\(Self.beijing(w.time, date: false)) lane \(w.lane) #\(w.seq) \(Self.speed(w.speedKmh)) \(w.axles.count) axles \(w.grossKg) kg\(factor) "
                + (invalid.isEmpty ? "valid" : "INVALID: " + invalid.map(\.code).joined(separator: ",")))
        case .decided(let w, let a, let plate, let record):
            guard lane == nil || w.lane == lane else { return }
            var line = "\(Self.beijing(w.time, date: false)) lane \(w.lane) #\(w.seq) -> \(a.decision.rawValue) plate \(plate ?? "unknown")"
            if a.decision == .overload, let over = a.overloadKg { line += " over \(over) kg" }
            if let record { line += " (record \(record))" }
            say(line)
        }
    }

    static func speed(_ v: Double) -> String {
        let t = Int((v * 10).rounded())
        return "\(t / 10).\(abs(t % 10)) km/h"
    }

    var laneList: String { host.lanes.map(String.init).joined(separator: ", ") }

    // MARK: limits, audit, records

    func limits() {
        say("Gross mass limits, 交通运输部令2016年第62号 Article 3 (\(Article3.rule)):")
        let rows: [(VehicleBody, Int, Int?, String)] = [
            (.rigid, 2, nil, "2-axle truck"), (.rigid, 3, nil, "3-axle truck"), (.rigid, 4, nil, "4-axle truck"),
            (.combination, 3, nil, "3-axle combination"), (.combination, 4, nil, "4-axle combination"),
            (.combination, 5, nil, "5-axle combination"), (.combination, 6, 2, "6+-axle combination"),
            (.combination, 6, 1, "6+-axle combination, single drive axle"),
        ]
        for (body, axles, drive, name) in rows {
            say("  \(name.padded(40)) \(Article3.tableLimitKg(body: body, axles: axles, driveAxles: drive) ?? 0) kg")
        }
        say("  each single-tyred axle in a 2- or 3-axle group (not the first, not wide tyres): -\(Article3.singleTyreReductionKg) kg")
        let a = AxleLoadLimits()
        say("Axle loads, GB 1589-2016 4.3 (findings only, never change the decision):")
        say("  single axle, single tyres \(a.singleAxleSingleTyreKg) kg; dual tyres \(a.singleAxleDualTyreKg) kg, driven \(a.singleDriveAxleDualTyreKg) kg")
        say("  tandem \(a.tandemKg) kg; tridem \(a.tridemKg) kg")
        say("Tolerance deducted before comparing: \(host.tolerance())")
    }

    func audit(_ args: [String]) {
        guard let n = count(args, default: 10) else { return }
        do {
            let entries = try host.auditEntries(last: n)
            if entries.isEmpty { say("the audit trail is empty") }
            for e in entries {
                var line = "#\(e.seq) \(e.time) \(e.who) \(e.event) \(e.parameter)"
                // A change reads old -> new; an event (a login, a start) just what it was.
                if let old = e.old { line += ": \(old) -> \(e.new ?? "-")" } else if let new = e.new { line += ": \(new)" }
                say(line)
            }
        } catch {
            say("cannot read the audit trail: \(error)")
        }
    }

    func records(_ args: [String]) {
        guard let n = count(args, default: 10) else { return }
        do {
            let rs = try host.records(last: n)
            if rs.isEmpty { say("no records") }
            for r in rs {
                say("#\(r.seq) \(r.time) lane \(r.lane) \((r.plate ?? "unknown").padded(9)) \(String(r.grossKg).padded(6, left: true)) kg \(r.decision.padded(9)) \(r.delivered ? "delivered" : "not delivered")")
            }
        } catch {
            say("cannot read the records: \(error)")
        }
    }

    private func count(_ args: [String], default d: Int) -> Int? {
        guard let a = args.first else { return d }
        guard let n = Int(a), (1...1000).contains(n) else {
            say("'\(a.prefix(10))' is not a count from 1 to 1000")
            return nil
        }
        return n
    }
}

extension String {
    func padded(_ n: Int, left: Bool = false) -> String {
        let w = unicodeScalars.reduce(0) { $0 + LineEditor.columns($1.value) }
        guard w < n else { return self }
        let pad = String(repeating: " ", count: n - w)
        return left ? pad + self : self + pad
    }
}
