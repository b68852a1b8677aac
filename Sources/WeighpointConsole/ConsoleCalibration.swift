import WeighpointCore

/// `cal show|set|clear|reference` and `tolerance set`: every change shows old -> new, asks for
/// confirmation, and is applied by the unit only after the audit trail has it.
extension ConsoleSession {
    // MARK: cal show

    func calShow(_ args: [String]) {
        let (profile, sha) = host.calibration()
        var lanes = host.lanes
        if let a = args.first {
            guard let n = Int(a), lanes.contains(n) else { say("no lane '\(a.prefix(10))': lanes are \(laneList)"); return }
            lanes = [n]
        }
        say("calibration profile sha256 \(sha)")
        say("speed bands \(profile.bandWidthKmh) km/h; tolerance \(host.tolerance())\(profile.tolerance == nil ? " (station configuration)" : " (profile)")")
        for lane in lanes {
            let cells = profile.cells(lane: lane)
            if cells.isEmpty {
                say("lane \(lane): uncalibrated (factor 1.0000)")
                continue
            }
            say("lane \(lane):")
            for (c, f) in cells {
                let speed = c.speedFromKmh.map { "\($0)-\($0 + profile.bandWidthKmh) km/h" } ?? "all speeds"
                say("  \(speed.padded(14)) \((c.axles.map { "axles \($0)" } ?? "all axle configurations").padded(26)) \(f)")
            }
        }
    }

    // MARK: cal set / cal clear

    /// Parses `LANE [speed LO-HI] [axles CFG]` and, when `withFactor`, a final FACTOR.
    private func parseCell(_ args: [String], profile: CalibrationProfile, withFactor: Bool) -> (CalibrationCell, CalibrationFactor?)? {
        let usage = withFactor ? "usage: cal set LANE [speed LO-HI] [axles CFG] FACTOR" : "usage: cal clear LANE [speed LO-HI] [axles CFG]"
        var rest = args[...]
        guard let l = rest.popFirst() else { say(usage); return nil }
        guard let lane = Int(l), host.lanes.contains(lane) else { say("no lane '\(l.prefix(10))': lanes are \(laneList)"); return nil }
        var cell = CalibrationCell(lane: lane)
        var factor: CalibrationFactor?
        while let word = rest.popFirst() {
            switch word {
            case "speed":
                guard let band = rest.popFirst() else { say(usage); return nil }
                let parts = band.split(separator: "-", omittingEmptySubsequences: false).compactMap { $0.isEmpty ? -1 : Int($0) }
                let w = profile.bandWidthKmh
                guard parts.count == 2, parts[0] >= 0, parts[0] < 200, parts[0] % w == 0, parts[1] == parts[0] + w else {
                    say("'\(band.prefix(12))' is not a speed band: bands are \(w) km/h wide from a multiple of \(w), e.g. 40-\(40 + w)")
                    return nil
                }
                cell.speedFromKmh = parts[0]
            case "axles":
                guard let text = rest.popFirst() else { say(usage); return nil }
                guard let c = AxleConfiguration(parsing: text) else {
                    say("'\(text.prefix(20))' is not an axle configuration: axles per group joined by +, e.g. 1+2+3")
                    return nil
                }
                cell.axles = c
            default:
                guard withFactor, rest.isEmpty else { say(usage); return nil }
                guard let f = CalibrationFactor(parsing: word) else { say("'\(word.prefix(12))' is not a factor like 0.9870"); return nil }
                guard CalibrationFactor.allowed.contains(f.tenThousandths) else {
                    say("factor \(f) is outside 0.8000-1.2000: that is a sensor fault, not a calibration")
                    return nil
                }
                factor = f
            }
        }
        if withFactor && factor == nil { say(usage); return nil }
        return (cell, factor)
    }

    func calSet(_ args: [String]) {
        let (profile, sha) = host.calibration()
        guard let (cell, factor) = parseCell(args, profile: profile, withFactor: true), let factor else { return }
        let name = cell.describe(bandWidthKmh: profile.bandWidthKmh)
        let old = profile.factors[cell]
        if old == factor { say("\(name) is \(factor) already: nothing to change"); return }
        var new = profile
        new.factors[cell] = factor
        if let old {
            say("\(name): \(old) -> \(factor) (\(factor.change(from: old)))")
        } else {
            // A new cell: say what its weighings get now, so the change on their loads is clear.
            let (from, current) = profile.covering(cell)
            let source = from.map { "from \($0.describe(bandWidthKmh: profile.bandWidthKmh))" } ?? "uncalibrated"
            say("\(name): none -> \(factor) (its weighings get \(current) now, \(source): \(factor.change(from: current)))")
        }
        confirm(new, basedOn: sha, changes: [ParameterChange(parameter: "calibration factor \(name)", old: old.map(\.description) ?? "none", new: "\(factor)")], reference: nil)
    }

    func calClear(_ args: [String]) {
        let (profile, sha) = host.calibration()
        guard let (cell, _) = parseCell(args, profile: profile, withFactor: false) else { return }
        let name = cell.describe(bandWidthKmh: profile.bandWidthKmh)
        guard let old = profile.factors[cell] else { say("\(name) has no factor: nothing to clear"); return }
        var new = profile
        new.factors[cell] = nil
        let fallback = profile.covering(cell)
        say("\(name): \(old) -> none (its weighings then get \(fallback.factor)\(fallback.cell.map { " from \($0.describe(bandWidthKmh: profile.bandWidthKmh))" } ?? ", uncalibrated"))")
        confirm(new, basedOn: sha, changes: [ParameterChange(parameter: "calibration factor \(name)", old: "\(old)", new: "none")], reference: nil)
    }

    // MARK: tolerance set

    func toleranceSet(_ args: [String]) {
        guard (1...2).contains(args.count), let hundredths = Self.hundredths(args[0]), (0...2000).contains(hundredths) else {
            say("usage: tolerance set PERCENT [KG]   (percent 0-20 with up to two decimals)")
            return
        }
        var kg = 0
        if args.count == 2 {
            guard let k = Int(args[1]), (0...5000).contains(k) else { say("'\(args[1].prefix(10))' is not a mass from 0 to 5000 kg"); return }
            kg = k
        }
        let (profile, sha) = host.calibration()
        let old = host.tolerance()
        let t = Tolerance(percentHundredths: hundredths, kg: kg)
        if t == old { say("the tolerance is \(t) already: nothing to change"); return }
        var new = profile
        new.tolerance = t
        say("tolerance: \(old) -> \(t)")
        confirm(new, basedOn: sha, changes: [ParameterChange(parameter: "tolerance", old: "\(old)", new: "\(t)")], reference: nil)
    }

    /// `2.5` → 250.
    static func hundredths(_ s: String) -> Int? {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), (1...4).contains(parts[0].count), parts[0].allSatisfy({ $0.isASCII && $0.isNumber }), let whole = Int(parts[0]) else { return nil }
        var frac = 0
        if parts.count == 2 {
            guard (1...2).contains(parts[1].count), parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let f = Int(parts[1]) else { return nil }
            frac = parts[1].count == 1 ? f * 10 : f
        }
        return whole * 100 + frac
    }

    // MARK: confirmation

    /// Asks for `yes`, then has the unit record and apply `new`. Refused if the profile changed
    /// since the technician saw it.
    func confirm(_ new: CalibrationProfile, basedOn sha: String, changes: [ParameterChange], reference: ReferenceRun?) {
        ask(Prompt(
            text: "Type yes to apply, anything else cancels: ",
            answer: { s, answer in
                guard answer.lowercased() == "yes" else {
                    s.say("not applied, nothing changed")
                    return
                }
                guard s.host.calibration().sha256 == sha else {
                    s.say("NOT applied: the calibration changed meanwhile; look again (cal show) and repeat")
                    return
                }
                do {
                    let newSHA = try s.host.applyCalibration(new, changes: changes, by: s.user?.name ?? "?", reference: reference)
                    s.say("applied and recorded in the audit trail; profile sha256 \(newSHA.prefix(16))…, in force from the next weighing")
                } catch {
                    s.say("NOT applied: \(error)")
                }
            },
            confirmsChange: true))
    }

    // MARK: cal reference

    func calReference(_ args: [String]) {
        let usage = "usage: cal reference LANE [passes N] [axles CFG] [per-axles]"
        var rest = args[...]
        guard let l = rest.popFirst() else { say(usage); return }
        guard let lane = Int(l), host.lanes.contains(lane) else { say("no lane '\(l.prefix(10))': lanes are \(laneList)"); return }
        var passes = 10
        var config: AxleConfiguration?
        var perConfiguration = false
        while let w = rest.popFirst() {
            switch w {
            case "passes":
                guard let t = rest.popFirst(), let n = Int(t), (3...100).contains(n) else { say("passes: a count from 3 to 100"); return }
                passes = n
            case "axles":
                guard let t = rest.popFirst(), let c = AxleConfiguration(parsing: t) else { say("axles: axles per group joined by +, e.g. 1+2+3"); return }
                config = c
            case "per-axles":
                perConfiguration = true
            default:
                say(usage)
                return
            }
        }
        if passes < 10 { say("note: \(passes) passes; the procedure asks for at least 10 for a calibration") }
        askAxleLoads(lane: lane, passes: passes, config: config, perConfiguration: perConfiguration)
    }

    private func askAxleLoads(lane: Int, passes: Int, config: AxleConfiguration?, perConfiguration: Bool) {
        ask(Prompt(
            text: "Static axle loads of the reference vehicle, kg, front first\(config.map { " (\($0.axleCount) axles)" } ?? ""): ",
            answer: { s, answer in
                let loads = answer.split(whereSeparator: { $0 == " " || $0 == "," }).map { Int($0) }
                guard (2...12).contains(loads.count), loads.allSatisfy({ ($0 ?? 0) >= 500 && ($0 ?? 0) <= 30_000 }) else {
                    s.say("give 2 to 12 axle loads in kg (500-30000 each), separated by spaces")
                    s.askAxleLoads(lane: lane, passes: passes, config: config, perConfiguration: perConfiguration)
                    return
                }
                let kg = loads.map { $0! }
                if let config, config.axleCount != kg.count {
                    s.say("\(kg.count) loads for axles \(config) (\(config.axleCount) axles)")
                    s.askAxleLoads(lane: lane, passes: passes, config: config, perConfiguration: perConfiguration)
                    return
                }
                let run = ReferenceRun(lane: lane, vehicle: ReferenceVehicle(axlesKg: kg, configuration: config), passes: passes, perConfiguration: perConfiguration)
                s.say("reference vehicle: \(kg.count) axles, static gross \(run.vehicle.grossKg) kg. Drive it over lane \(lane) \(passes) times.")
                s.say("keys: r rejects the last pass, q stops early, Ctrl-C abandons, Enter shows progress")
                s.state = .collecting(run, s.host.subscribe())
            },
            cancelled: "reference run abandoned, nothing changed"))
    }

    func offer(_ w: Weighing, _ run: inout ReferenceRun) {
        guard let result = run.offer(w) else { return }
        switch result {
        case .success(let p):
            let worst = p.worstAxle(run.vehicle)
            say("pass \(run.passes.count)/\(run.passesWanted) #\(p.controllerSeq) \(Self.speed(p.speedKmh)) controller \(p.controllerGrossKg) kg x\(p.appliedFactor) = \(p.measuredGrossKg) kg, "
                + "error \(signedHundredths(p.grossErrorHundredths(run.vehicle))) %, worst axle \(worst.axle) \(signedHundredths(worst.errorHundredths)) %")
        case .failure(let why):
            say("ignored #\(w.seq): \(why)")
        }
    }

    func collectingKey(_ b: UInt8, _ run: ReferenceRun, _ sub: LiveFeed.Subscription) {
        var run = run
        switch b {
        case UInt8(ascii: "r"), UInt8(ascii: "R"):
            if let p = run.dropLast() { say("pass #\(p.controllerSeq) rejected; \(run.passes.count)/\(run.passesWanted) passes") } else { say("no pass to reject") }
            state = .collecting(run, sub)
        case UInt8(ascii: "q"), UInt8(ascii: "Q"):
            if run.passes.count >= 3 {
                say("stopped with \(run.passes.count) passes")
                finishCollecting(run, sub)
            } else {
                sub.cancel()
                say("stopped with \(run.passes.count) passes, too few to propose anything; nothing changed")
                ready()
            }
        case 0x03:
            sub.cancel()
            say("reference run abandoned, nothing changed")
            ready()
        case 0x0D, 0x0A:
            let stats = run.errorStatistics.map { ", mean error \(Self.percent($0.mean)) %" } ?? ""
            say("\(run.passes.count)/\(run.passesWanted) passes\(stats); waiting for the reference vehicle on lane \(run.lane)")
        default:
            break
        }
    }

    static func percent(_ v: Double) -> String { signedHundredths(Int((v * 100).rounded())) }

    func finishCollecting(_ run: ReferenceRun, _ sub: LiveFeed.Subscription) {
        sub.cancel()
        lastInput = now  // the question that follows gets the full idle time
        let (profile, sha) = host.calibration()
        let errors = run.passes.map { $0.grossErrorHundredths(run.vehicle) }
        if let (mean, spread) = run.errorStatistics {
            say("\(run.passes.count) passes: mean error \(Self.percent(mean)) %, spread \(String(Self.percent(spread).dropFirst())) % (1 s.d.), "
                + "from \(signedHundredths(errors.min()!)) % to \(signedHundredths(errors.max()!)) %")
        }
        let proposal = run.proposal(profile)
        say("proposed factors (static gross / controller gross, mean of the passes):")
        for p in proposal {
            let se = p.standardError.map { " ± \(CalibrationFactor(tenThousandths: $0))" } ?? ""
            say("  \(p.cell.describe(bandWidthKmh: profile.bandWidthKmh).padded(52)) \(p.old.map(\.description) ?? "none") -> \(p.new)\(se) (\(p.passes) passes)")
            if let se = p.standardError, abs(p.new.tenThousandths - (p.old ?? .one).tenThousandths) < 2 * se {
                say("    the change is within twice its standard error: more passes would tell")
            }
            if !CalibrationFactor.allowed.contains(p.new.tenThousandths) {
                say("    outside 0.8000-1.2000: the sensor needs attention; this factor will not be applied")
            }
        }
        let usable = proposal.filter { CalibrationFactor.allowed.contains($0.new.tenThousandths) }
        guard let overall = usable.first, overall.cell.speedFromKmh == nil else {
            say("nothing applicable; nothing changed")
            ready()
            return
        }
        let question = usable.count > 1
            ? "Apply [a]ll \(usable.count) factors, [o]nly the all-speeds factor, or [n]one? "
            : "Apply the factor? [y]es or [n]o: "
        ask(Prompt(
            text: question,
            answer: { s, answer in
                let chosen: [ProposedFactor]
                switch answer.lowercased() {
                case "a", "all": chosen = usable
                case "o", "only", "y", "yes": chosen = [overall]
                default:
                    s.say("nothing applied, nothing changed")
                    return
                }
                var new = profile
                var changes: [ParameterChange] = []
                for p in chosen {
                    new.factors[p.cell] = p.new
                    let name = p.cell.describe(bandWidthKmh: profile.bandWidthKmh)
                    s.say("\(name): \(p.old.map(\.description) ?? "none") -> \(p.new)")
                    changes.append(ParameterChange(parameter: "calibration factor \(name)", old: p.old.map(\.description) ?? "none", new: "\(p.new)"))
                }
                let shadowing = profile.cells(lane: run.lane).filter { c, _ in
                    c.speedFromKmh != nil && !chosen.contains { $0.cell == c } && (run.perConfiguration ? c.axles == run.vehicle.configuration : true)
                }
                if chosen.count == 1, !shadowing.isEmpty {
                    s.say("note: \(shadowing.count) speed-band factor(s) of lane \(run.lane) stay and take precedence in their bands")
                }
                s.confirm(new, basedOn: sha, changes: changes, reference: run)
            },
            cancelled: "nothing applied, nothing changed"))
    }
}
