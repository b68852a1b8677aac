import WeighpointCore

/// The outcome for one weighing of a replay: the core's decision step.
public typealias ReplayDecision = VehicleDecision

extension Scenario {
    /// Runs the decision core over the scenario: association, plate matching, assessment.
    /// One decision per weighing, in input order. Deterministic: no clock, no I/O.
    public func replay() -> [ReplayDecision] {
        var listNames: [String] = []
        var entriesByList: [String: [String]] = [:]
        for e in watchEntries {
            if entriesByList[e.list] == nil { listNames.append(e.list) }
            entriesByList[e.list, default: []].append(e.plate)
        }
        let decider = Decider(
            associator: Associator(cameras: station.cameras, windowMilliseconds: station.matchWindowMs),
            assessor: Assessor(rules: station.rules, permits: PermitBook(permits)),
            watchLists: listNames.map { WatchList(name: $0, plates: entriesByList[$0]!) })
        return decider.decide(weighings.map(\.weighing), reads: reads.map(\.read))
    }
}

extension ReplayDecision {
    /// One JSON line in the key order of SCENARIOS.md, then optional extra keys.
    public var jsonLine: String {
        let a = assessment
        var o = JSONObjectWriter()
        o.add("seq", .number(String(weighing.seq)))
        o.add("decision", .string(a.decision.rawValue))
        o.add("plate", front.map { .string($0.normalized) } ?? .null)
        o.add("plate_color", front.map { .string($0.color.rawValue) } ?? .null)
        o.add("rear_plate", rear.map { .string($0.normalized) } ?? .null)
        o.add("axles", .number(String(weighing.axles.count)))
        o.add("gross_kg", .number(String(a.grossKg)))
        o.add("limit_kg", a.limit.map { .number(String($0.kg)) } ?? .null)
        o.add("tolerance_kg", a.toleranceKg.map { .number(String($0)) } ?? .null)
        o.add("overload_kg", a.overloadKg.map { .number(String($0)) } ?? .null)
        o.add("overload_ratio", a.overloadRatio10k.map { .number(decimal10k($0)) } ?? .null)
        o.add("rule", a.limit.map { .string($0.rule) } ?? .null)
        if let use = a.permit {
            var p = JSONObjectWriter()
            p.add("plate", .string(use.permit.plate))
            p.add("match", .string(use.kind.rawValue))
            p.add("max_gross_kg", .number(String(use.permit.maxGrossKg)))
            p.add("valid_until", .string(use.permit.validUntil.description))
            o.add("permit", .raw(p.text))
        } else {
            o.add("permit", .null)
        }
        o.add("reason", a.reasons.isEmpty ? .null : .string(a.reasons.joined(separator: "; ")))
        let hits = watchHits.map { h -> String in
            var x = JSONObjectWriter()
            x.add("list", .string(h.list))
            x.add("plate", .string(h.plate))
            x.add("read", .string(h.read))
            x.add("match", .string(h.kind.rawValue))
            return x.text
        }
        o.add("watchlist", .raw("[" + hits.joined(separator: ",") + "]"))
        o.add("tolerance", .string(a.tolerance.description))
        if let limit = a.limit { o.add("limit_basis", .string(limit.basis)) }
        if !a.axleFindings.isEmpty {
            let items = a.axleFindings.map { f -> String in
                var x = JSONObjectWriter()
                x.add("rule", .string(AxleLoadLimits.rule))
                x.add("group", .number(String(f.group)))
                x.add("axles", .raw("[" + f.axles.map(String.init).joined(separator: ",") + "]"))
                x.add("kg", .number(String(f.kg)))
                x.add("limit_kg", .number(String(f.limitKg)))
                x.add("over_kg", .number(String(f.overKg)))
                return x.text
            }
            o.add("axle_findings", .raw("[" + items.joined(separator: ",") + "]"))
        }
        return o.text
    }
}

/// 543 → "0.0543", -278 → "-0.0278", 10000 → "1.0".
func decimal10k(_ v: Int) -> String {
    let sign = v < 0 ? "-" : ""
    let a = abs(v)
    var frac = String(a % 10_000)
    frac = String(repeating: "0", count: 4 - frac.count) + frac
    while frac.count > 1 && frac.hasSuffix("0") { frac.removeLast() }
    return "\(sign)\(a / 10_000).\(frac)"
}

