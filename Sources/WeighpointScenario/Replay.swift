import WeighpointCore
import WeighpointJSON

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
    /// One JSON line in the key order of Docs/decision-core.md, then optional extra keys.
    public var jsonLine: String {
        let a = assessment
        var o: JSONObject = [
            "seq": .integer(weighing.seq),
            "decision": .string(a.decision.rawValue),
            "plate": .nullable(front?.normalized),
            "plate_color": .nullable(front?.color.rawValue),
            "rear_plate": .nullable(rear?.normalized),
            "axles": .integer(weighing.axles.count),
            "gross_kg": .integer(a.grossKg),
            "limit_kg": .nullable(a.limit?.kg),
            "tolerance_kg": .nullable(a.toleranceKg),
            "overload_kg": .nullable(a.overloadKg),
            // Ten-thousandths as a decimal: 543 → 0.0543 (exact in the shortest form).
            "overload_ratio": a.overloadRatio10k.map { .double(Double($0) / 10_000) } ?? .null,
            "rule": .nullable(a.limit?.rule),
            "permit": a.permit.map { use in
                .object([
                    "plate": .string(use.permit.plate),
                    "match": .string(use.kind.rawValue),
                    "max_gross_kg": .integer(use.permit.maxGrossKg),
                    "valid_until": .string(use.permit.validUntil.description),
                ])
            } ?? .null,
            "reason": a.reasons.isEmpty ? .null : .string(a.reasons.joined(separator: "; ")),
            "watchlist": .array(watchHits.map { h in
                .object(["list": .string(h.list), "plate": .string(h.plate), "read": .string(h.read), "match": .string(h.kind.rawValue)])
            }),
            "tolerance": .string(a.tolerance.description),
        ]
        if let limit = a.limit { o["limit_basis"] = .string(limit.basis) }
        if !a.axleFindings.isEmpty {
            o["axle_findings"] = .array(a.axleFindings.map { f in
                .object([
                    "rule": .string(AxleLoadLimits.rule),
                    "group": .integer(f.group),
                    "axles": .array(f.axles.map { .integer($0) }),
                    "kg": .integer(f.kg),
                    "limit_kg": .integer(f.limitKg),
                    "over_kg": .integer(f.overKg),
                ])
            })
        }
        return JSONValue.object(o).text
    }
}
